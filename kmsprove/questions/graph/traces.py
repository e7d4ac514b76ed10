"""`ever` traces as paths: each "yes" answer's steps, then its final request, as TRACE
edges from principal to principal and into the key (`Answer.trace`,
`Answer.counterexample`). Consecutive steps by one principal are one edge."""

from __future__ import annotations

from collections.abc import Sequence

from kmsprove.answer import Answer
from kmsprove.errors import SourcePos
from kmsprove.questions.graph.model import Edge, EdgeKind, GraphBuilder
from kmsprove.questions.graph.nodes import key_node, named_node
from kmsprove.request import Layer
from kmsprove.world import World

_LETS_IN = (Layer.KEY_POLICY, Layer.IDENTITY, Layer.GRANTS)


def _final_places(answer: Answer) -> tuple[SourcePos, ...]:
    """Where the final request was let in: the matched allows of the key policy, the
    identity policies and the grants."""
    if answer.decision is None:
        return ()
    found = {
        SourcePos(r.file, r.line, r.col)
        for layer in answer.decision.layers
        if layer.layer in _LETS_IN
        for r in layer.statements
        if r.matched and r.effect == "Allow"
    }
    return tuple(sorted(found))


def add_traces(b: GraphBuilder, world: World, answers: Sequence[Answer]) -> None:
    """One path per answer that has a counterexample, numbered from 1 in order."""
    for n, answer in enumerate(answers, 1):
        final = answer.counterexample
        if final is None or final.key is None:
            continue
        key = world.find_key(final.key)
        target = b.add_node(key_node(key)) if key is not None else None
        if target is None:
            continue
        # (principal node, step texts, actions, notes) in order, one per run of steps
        runs: list[tuple[str, list[str], set[str], list[str]]] = []
        for i, step in enumerate(answer.trace, 1):
            node = b.add_node(named_node(world, str(step.get("principal", "")), caller=True))
            action = str(step.get("action", ""))
            note = str(dict(step.get("parameters", {})).get("note", ""))
            if runs and runs[-1][0] == node:
                runs[-1][1].append(f"step {i}")
                runs[-1][2].add(action)
                runs[-1][3].append(note)
            else:
                runs.append((node, [f"step {i}"], {action}, [note]))
        caller = b.add_node(named_node(world, final.principal, caller=True))
        if runs and runs[-1][0] == caller:
            texts, actions, notes = runs.pop()[1:]
        else:
            texts, actions, notes = [], set(), []
        runs.append((caller, [*texts, "final request"], {*actions, final.action}, notes))
        for (src, texts, actions, notes), nxt in zip(
            runs, [r[0] for r in runs[1:]] + [target], strict=True
        ):
            last = nxt == target
            b.add_edge(
                Edge(
                    src,
                    nxt,
                    EdgeKind.TRACE,
                    tuple(sorted(actions)),
                    f"trace {n}: " + ", ".join(texts),
                    _final_places(answer) if last else (),
                    trace=n,
                    note="; ".join(x for x in notes if x),
                )
            )

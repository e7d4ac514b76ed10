"""Report stage: query `Answer`s -> text for people, and the JSON shape of DESIGN.md.

Several keys give several answers; their JSON is the first "yes" (else the first
answer) with the overall verdict and every key's answer under `keys`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from kmsprove.answer import Answer, Verdict
from kmsprove.report.common import accounts_text, reproduce_line, shown_context, value_text
from kmsprove.request import Layer, Request


def shortened(answers: Sequence[Answer], max_steps: int | None) -> list[Answer]:
    """`--max-steps`: the last steps of each trace, said in the reason (never the proof)."""
    out = []
    for a in answers:
        if max_steps is not None and len(a.trace) >= max_steps > 0:
            a = replace(
                a,
                reason=a.reason
                + f" (trace of {len(a.trace) + 1} steps; shown: the last {max_steps})",
                trace=a.trace[len(a.trace) + 1 - max_steps :],
            )
        out.append(a)
    return out


def answer_json(a: Answer) -> dict[str, Any]:
    ce: dict[str, Any] | None = None
    if a.counterexample is not None:
        r = a.counterexample
        ce = {
            "principal": r.principal,
            "action": r.action,
            "key": r.key,
            "context": r.context.as_json(),
            "trace": [*a.trace, _final_step(r)] if a.trace else [],
        }
        if r.federated_from:
            ce["federated_from"] = r.federated_from
        if a.witness:
            ce["assumed_identity_policies"] = list(a.witness)
    return {
        "answer": a.verdict.value,
        "key": a.key,
        "counterexample": ce,
        "assumptions": {
            "open_accounts": list(a.open_accounts),
            "trusted": list(a.trusted),
            "steps_not_modelled": list(a.not_modelled),
            "inputs": list(a.inputs_assumed),
        },
        "reason": a.reason,
        "notes": list(a.notes),
        "seconds": round(a.seconds, 4),
    }


def _final_step(r: Request) -> dict[str, Any]:
    out: dict[str, Any] = {
        "principal": r.principal,
        "action": r.action,
        "key": r.key,
        "parameters": {},
        "context": r.context.as_json(),
    }
    if r.federated_from:
        out["federated_from"] = r.federated_from
    return out


def answers_json(answers: Sequence[Answer]) -> dict[str, Any]:
    docs = [answer_json(a) for a in answers]
    if len(docs) == 1:
        return docs[0]
    unknown = any(a.verdict is Verdict.UNKNOWN for a in answers)
    overall = "yes" if any(d["answer"] == "yes" for d in docs) else "unknown" if unknown else "no"
    first = next((d for d in docs if d["answer"] == "yes"), docs[0])
    return {
        **first,
        "answer": overall,
        "keys": docs,
        "seconds": round(sum(d["seconds"] for d in docs), 4),
    }


def render_answers(
    answers: Sequence[Answer],
    world_file: str,
    saved: Sequence[str | None] = (),
    flags: Sequence[str] = (),
) -> str:
    """The answers for people; `saved[i]` is where answer i's witness was written;
    `flags` read WORLD again in the commands printed."""
    lines: list[str] = []
    for i, a in enumerate(answers):
        head = f"{a.verdict.value}" + (f" (key {a.key})" if a.key else "")
        lines.append(head)
        if a.counterexample is not None and a.verdict.value == "yes":
            r = a.counterexample
            for n, step in enumerate(a.trace, 1):
                params = step.get("parameters", {})
                what = params.get("note") or ", ".join(
                    f"{k}={v}" for k, v in params.items() if k != "Policy"
                )
                lines.append(
                    f"  step {n}: {step['principal']} calls {step['action']}"
                    + (f": {what}" if what else "")
                )
            if a.trace:
                lines.append(f"  step {len(a.trace) + 1}: the request below")
            lines.append(f"  {r.principal} may call {r.action}")
            lines.append(f"  because {a.reason}")
            shown = shown_context(r)
            if shown:
                lines.append(
                    "  with context: " + ", ".join(f"{k}={value_text(v)}" for k, v in shown.items())
                )
            lines.extend(f"  assuming {w}" for w in a.witness)
            lines.extend(f"  note: {n}" for n in a.notes)
            if a.decision is not None:
                for lr in a.decision.layers:
                    for s in lr.statements:
                        if s.matched:
                            what = (
                                f"grant `{s.sid}`"
                                if lr.layer is Layer.GRANTS
                                else (f"Sid `{s.sid}`" if s.sid else "statement")
                            )
                            lines.append(
                                f"    {lr.layer.value}: {s.effect} {what} at {s.file}:{s.line}"
                            )
            where = saved[i] if i < len(saved) else None
            lines.append(
                f"  {reproduce_line(world_file, a.shown or r, a.rests_on_assumptions, where, flags)}"
            )
        elif a.verdict.value == "unknown":
            lines.append(f"  {a.reason}")
        else:
            lines.append(f"  {a.reason}")
        if a.open_accounts:
            lines.append(f"  open accounts assumed: {accounts_text(a.open_accounts)}")
        lines.extend(f"  input assumed: {n}" for n in a.inputs_assumed)
        if a.trusted:
            lines.append(f"  trusted (took no steps of their own): {', '.join(a.trusted)}")
        if a.not_modelled and a.verdict.value == "no":
            lines.append(f"  steps not modelled: {'; '.join(a.not_modelled)}")
        lines.append(f"  solver time: {a.seconds:.3f} s")
    return "\n".join(lines) + "\n"

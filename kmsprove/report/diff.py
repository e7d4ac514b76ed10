"""Report stage: `DiffResult` -> text for people, or the JSON shape of DESIGN.md
(`{"relation", "new_access", "removed_access"}`, plus why and what was assumed)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kmsprove.answer import DiffResult, Finding, FindingStatus, Relation
from kmsprove.report.common import explain_command, reproduce_line, shown_context
from kmsprove.request import Request

HEADLINE = {
    Relation.EQUIVALENT: "no request is allowed by one side and denied by the other",
    Relation.MORE: "NEW allows a request OLD denies, and OLD allows nothing NEW denies",
    Relation.LESS: "OLD allows a request NEW denies, and NEW allows nothing OLD denies",
    Relation.INCOMPARABLE: "each side allows a request the other denies",
    Relation.UNKNOWN: "at least one direction is undecided",
}


def request_json(r: Request) -> dict[str, Any]:
    out: dict[str, Any] = {"principal": r.principal, "action": r.action, "key": r.key}
    if r.resource:
        out["resource"] = r.resource
    out["context"] = r.context.as_json()
    for name in ("grant_id", "via_vpce", "federated_from"):
        if getattr(r, name):
            out[name] = getattr(r, name)
    return out


def _direction_json(f: Finding) -> dict[str, Any]:
    return {
        "status": f.status.value,
        "on": f.where or None,
        "reason": f.reason,
        "allowed_because": f.allows or None,
        "denied_because": f.denies or None,
        "assumed": [f"{arn}: {text}" for arn, text in f.assumed.items()],
    }


def diff_json(result: DiffResult) -> dict[str, Any]:
    def witness(f: Finding) -> dict[str, Any] | None:
        ok = f.status is FindingStatus.FOUND and f.request is not None
        return request_json(f.request) if ok else None  # type: ignore[arg-type]

    return {
        "relation": result.relation.value,
        "new_access": witness(result.new_access),
        "removed_access": witness(result.removed_access),
        "kind": result.kind,
        "directions": {
            "new_access": _direction_json(result.new_access),
            "removed_access": _direction_json(result.removed_access),
        },
        "compared": result.compared,
        "assumptions": result.assumptions,
        "seconds": round(result.seconds, 4),
    }


def _value(v: str | list[str]) -> str:
    return v if isinstance(v, str) else "[" + ", ".join(v) + "]"


def _direction(
    title: str,
    f: Finding,
    sides: tuple[str, str],
    files: tuple[str, str] | None,
    read_args: Sequence[str] = (),
) -> list[str]:
    """`sides` names the side that allows, then the one that denies."""
    if f.status is FindingStatus.NONE:
        return [f"{title}: none (proved)"]
    if f.status is FindingStatus.UNKNOWN or f.request is None:
        where = f" (on {f.where})" if f.where else ""
        return [f"{title}: unknown{where}: {f.reason}"]
    r = f.request
    target = r.key or r.resource or "no resource (IAM alone decides)"
    lines = [f"{title}: {r.principal} may call {r.action} on {target}"]
    shown = shown_context(r)
    if shown:
        lines.append("  with context: " + ", ".join(f"{k}={_value(v)}" for k, v in shown.items()))
    lines += [
        f"  {name.replace('_', ' ')}: {getattr(r, name)}"
        for name in ("grant_id", "via_vpce")
        if getattr(r, name)
    ]
    lines.append(f"  {sides[0]} allows it: {f.allows}")
    lines.append(f"  {sides[1]} denies it: {f.denies}")
    lines += [f"  assuming {arn}: {text}" for arn, text in f.assumed.items()]
    if files is not None:
        if f.assumed:  # diff has no --save-witness: say what a world file would need
            lines.append(
                "  witness: it rests on what is assumed above, which a world file would have"
                " to hold for `kmsprove explain` to reproduce it"
            )
            return lines
        # the side that allows reproduces it; the other side's command shows the denial
        lines.append(f"  {reproduce_line(files[0], r, False, None, read_args)}")
        against = explain_command(files[1], r, read_args)
        if against is not None:
            lines.append(f"  denied by the other side: {against}")
    return lines


def render_diff(result: DiffResult, old: str, new: str, read_args: Sequence[str] = ()) -> str:
    """The relation, a witness for each direction that differs, and the assumptions;
    `read_args`: the flags both sides were read with (`--account`, `--region`)."""
    lines = [f"{result.relation.value}: {HEADLINE[result.relation]}"]
    # `kmsprove explain` takes a world file, or a key policy on the key `--key-arn` names
    # (the example key both policies were placed on); an identity policy it cannot take
    replays = result.kind in ("world", "key-policy")
    for title, f, sides, files in (
        ("new access", result.new_access, ("NEW", "OLD"), (new, old)),
        ("removed access", result.removed_access, ("OLD", "NEW"), (old, new)),
    ):
        args = tuple(read_args)
        if result.kind == "key-policy" and f.request is not None and f.request.key:
            args += ("--key-arn", f.request.key)
        lines += _direction(title, f, sides, files if replays else None, args)
    if result.compared:
        lines.append(f"compared on: {', '.join(result.compared)}")
    lines += [f"assuming {a}" for a in result.assumptions]
    lines.append(f"solver time: {result.seconds:.3f} s")
    return "\n".join(lines) + "\n"

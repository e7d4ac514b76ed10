"""Suppressions and baselines: which findings do not count toward the exit code.

A suppressions file (JSON, or YAML for `.yaml`/`.yml`) is a list of entries, or an
object whose `suppressions` member is one; each entry names a rule (`rule`), what it is
about (`key`: a key or bucket ARN, and/or `sid`: the Sid of a statement the finding
points at), why (`reason`) and, optionally, until when (`expires`, `YYYY-MM-DD`). A
suppression past its day suppresses nothing and is reported; one that matches no
finding is reported too (it may be stale).

A baseline is the JSON report of an earlier run (`--format json`): findings whose
fingerprint it holds are known, and only new ones count.
"""

from __future__ import annotations

import datetime
import difflib
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from kmsprove.errors import Diagnostic, InputError, SourcePos, error, warning
from kmsprove.inputs.files import read_text
from kmsprove.questions.audit.findings import AuditFinding, Suppression
from kmsprove.questions.audit.table import rule_ids
from kmsprove.syntax.json import parse_json
from kmsprove.syntax.tree import JArray, JNode, JObject, JString
from kmsprove.syntax.yaml import parse_yaml

FIELDS = ("rule", "key", "sid", "reason", "expires")


def _parse(path: str) -> JNode:
    text = read_text(path)
    if Path(path).suffix.lower() in (".yaml", ".yml"):
        return parse_yaml(text, path)
    return parse_json(text, path)


def _string(node: JNode | None, name: str, diags: list[Diagnostic]) -> str | None:
    if node is None:
        return None
    if not isinstance(node, JString) or not node.value.strip():
        diags.append(error(node.pos, f"`{name}` must be a non-empty string"))
        return None
    return node.value


def _entry(node: JNode, diags: list[Diagnostic]) -> Suppression | None:
    if not isinstance(node, JObject):
        diags.append(
            error(node.pos, "a suppression is an object: `rule`, `key` or `sid`, `reason`")
        )
        return None
    before = len(diags)
    for m in node.members:
        if m.key not in FIELDS:
            near = difflib.get_close_matches(m.key, FIELDS, n=1)
            hint = f" (did you mean `{near[0]}`?)" if near else ""
            diags.append(error(m.key_pos, f"unknown field `{m.key}`{hint}"))
    rule = _string(node.get("rule"), "rule", diags)
    reason = _string(node.get("reason"), "reason", diags)
    key = _string(node.get("key"), "key", diags)
    sid = _string(node.get("sid"), "sid", diags)
    expires = _string(node.get("expires"), "expires", diags)
    if rule is None and node.get("rule") is None:
        diags.append(error(node.pos, "a suppression needs `rule`: the rule id it silences"))
    elif rule is not None and rule not in rule_ids():
        near = difflib.get_close_matches(rule, rule_ids(), n=1)
        hint = f" (did you mean `{near[0]}`?)" if near else ""
        diags.append(error(_at(node, "rule"), f"no rule `{rule}`{hint}"))
    if reason is None and node.get("reason") is None:
        diags.append(error(node.pos, "a suppression needs `reason`: why the finding is accepted"))
    if key is None and sid is None and node.get("key") is None and node.get("sid") is None:
        diags.append(
            error(node.pos, "a suppression names what it is about: `key` (an ARN) or `sid`")
        )
    if expires is not None and _day(expires) is None:
        diags.append(
            error(_at(node, "expires"), f"`expires` is a date YYYY-MM-DD, not `{expires}`")
        )
    if len(diags) > before or rule is None or reason is None:
        return None
    return Suppression(rule, reason, key, sid, expires, node.pos)


def _at(node: JObject, name: str) -> SourcePos:
    value = node.get(name)
    return value.pos if value is not None else node.pos


def _day(text: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def read_suppressions(path: str) -> tuple[Suppression, ...]:
    """The entries of a suppressions file; every problem is a positioned error."""
    root = _parse(path)
    items = root.get("suppressions") if isinstance(root, JObject) else root
    if not isinstance(items, JArray):
        raise InputError.at(
            root.pos, "a suppressions file is a list, or an object with a `suppressions` list"
        )
    diags: list[Diagnostic] = []
    out = [s for item in items.items if (s := _entry(item, diags)) is not None]
    if diags:
        raise InputError(diags)
    return tuple(out)


def read_baseline(path: str) -> frozenset[str]:
    """The fingerprints of an earlier run's findings (its JSON report)."""
    root = parse_json(read_text(path), path)
    findings = root.get("findings") if isinstance(root, JObject) else None
    if not isinstance(findings, JArray):
        raise InputError.at(
            root.pos, "not an audit report: a baseline is `kmsprove audit --format json` output"
        )
    out: set[str] = set()
    diags: list[Diagnostic] = []
    for item in findings.items:
        fp = item.get("fingerprint") if isinstance(item, JObject) else None
        if isinstance(fp, JString):
            out.add(fp.value)
        else:
            diags.append(error(item.pos, "a baseline finding needs its `fingerprint`"))
    if diags:
        raise InputError(diags)
    return frozenset(out)


def expired(s: Suppression, today: datetime.date) -> bool:
    day = _day(s.expires) if s.expires else None
    return day is not None and day < today


def matches(s: Suppression, f: AuditFinding) -> bool:
    return (
        s.rule == f.rule.id
        and (s.key is None or s.key == f.key)
        and (s.sid is None or s.sid in f.sids)
    )


def apply(
    findings: Sequence[AuditFinding],
    suppressions: Sequence[Suppression] = (),
    baseline: frozenset[str] = frozenset(),
    today: datetime.date | None = None,
) -> tuple[list[AuditFinding], list[Diagnostic]]:
    """The findings marked suppressed or known from the baseline, and a warning for each
    expired suppression and each that matches nothing."""
    day = today or datetime.date.today()
    live = [s for s in suppressions if not expired(s, day)]
    used: set[int] = set()
    out = []
    for f in findings:
        hit = next((s for s in live if matches(s, f)), None)
        if hit is not None:
            used.add(id(hit))
        out.append(replace(f, suppressed=hit, in_baseline=f.fingerprint in baseline))
    notes = []
    for s in suppressions:
        what = f"suppression of `{s.rule}`" + (f" for {s.key}" if s.key else "")
        if expired(s, day):
            notes.append(
                warning(
                    s.pos,
                    f"{what} expired on {s.expires} ({s.reason}): its findings count again",
                )
            )
        elif id(s) not in used:
            notes.append(warning(s.pos, f"{what} matches no finding: remove it if it is stale"))
    return out, notes


__all__ = ["apply", "expired", "matches", "read_baseline", "read_suppressions"]

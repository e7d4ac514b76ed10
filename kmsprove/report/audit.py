"""Report stage for `audit`: the estate's `AuditReport`s -> text grouped by key (severity
first), JSON, or a SARIF 2.1.0 log with one rule per finding kind.

A finding's evidence reads the same everywhere: the request the evaluator allowed (or
the trace), the statements that let it in (FILE:LINE:COL), the reproduce line; or what
was proved never to work; or why the answer is unknown.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kmsprove.errors import Diagnostic, SourcePos
from kmsprove.questions.audit.estate import AuditReport, Shown
from kmsprove.questions.audit.findings import AuditFinding, Status
from kmsprove.questions.audit.rules import SEVERITIES, Rule, Severity
from kmsprove.questions.audit.table import RULES
from kmsprove.report.answer import answer_json
from kmsprove.report.check import request_lines, where
from kmsprove.report.common import reproduce_line
from kmsprove.report.estate import diagnostic_json
from kmsprove.report.sarif import SCHEMA, SRCROOT, _information_uri, _location, _version

LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
# GitHub code scanning reads a rule's `security-severity` (CVSS-like, 0-10)
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "0.0"}


def _order(f: AuditFinding) -> tuple[int, int, int]:
    return (-f.severity, f.status is Status.UNKNOWN, RULES.index(f.rule))


def evidence(f: AuditFinding) -> list[str]:
    """Why the finding stands (or is unknown), one line each, without indentation."""
    a = f.answer
    if f.status is Status.UNKNOWN:
        lines = [f.message]
    elif a is not None and a.counterexample is not None and a.verdict.value == "yes":
        lines = request_lines(a) + [f"note: {n}" for n in a.notes]
        if f.message and not f.message.startswith(a.counterexample.principal):
            lines.insert(0, f.message)
    else:
        lines = [f.message] + ([f"proved: {a.reason}"] if a is not None and a.reason else [])
    lines += list(f.details)
    if f.locations:
        lines.append("let in by:" if f.status is Status.FOUND and _is_witness(f) else "about:")
        lines += [f"  {where(r)}" for r in f.locations]
    return lines


def _is_witness(f: AuditFinding) -> bool:
    a = f.answer
    return a is not None and a.verdict.value == "yes" and a.counterexample is not None


def _head(f: AuditFinding) -> str:
    sev = f.severity.label.upper()
    if f.status is Status.UNKNOWN:
        return f"UNKNOWN  ({f.severity.label}) {f.rule.id}: {f.rule.title}"
    return f"{sev:<8} {f.rule.id}: {f.rule.title}"


def _finding_text(f: AuditFinding, flags: Sequence[str]) -> list[str]:
    lines = [_head(f)]
    if f.suppressed is not None:
        until = f" until {f.suppressed.expires}" if f.suppressed.expires else ""
        lines.append(f"  suppressed{until}: {f.suppressed.reason}")
    if f.in_baseline:
        lines.append("  in the baseline")
    lines += [f"  {line}" for line in evidence(f)]
    a = f.answer
    if _is_witness(f) and a is not None and a.counterexample is not None and f.world:
        if a.rests_on_assumptions:
            lines.append(
                "  witness: it rests on what is assumed above; `kmsprove query` of the question"
                " below with `--save-witness DIR` writes a world and a request that reproduce one"
            )
        else:
            shown = a.shown or a.counterexample
            lines.append(f"  {reproduce_line(f.world, shown, False, None, flags)}")
    lines.append(f"  asked: {f.question}")
    lines.append(f"  fix: {f.rule.fix}")
    lines.append(f"  see: {f.rule.help_uri}")
    return lines


def counts(findings: Sequence[AuditFinding]) -> dict[str, int]:
    out = dict.fromkeys(SEVERITIES, 0)
    out |= {"unknown": 0, "suppressed": 0, "in_baseline": 0, "total": len(findings)}
    for f in findings:
        if f.suppressed is not None:
            out["suppressed"] += 1
        elif f.in_baseline:
            out["in_baseline"] += 1
        elif f.status is Status.UNKNOWN:
            out["unknown"] += 1
        else:
            out[f.severity.label] += 1
    return out


def summary_line(findings: Sequence[AuditFinding], worlds: int, keys: int) -> str:
    c = counts(findings)
    found = sum(c[s] for s in SEVERITIES)
    by = ", ".join(f"{c[s]} {s}" for s in SEVERITIES)
    where_ = f"{worlds} world{'s' if worlds != 1 else ''}, {keys} key{'s' if keys != 1 else ''}"
    return (
        f"{where_}: {found} finding{'s' if found != 1 else ''} ({by}), {c['unknown']} unknown,"
        f" {c['suppressed']} suppressed, {c['in_baseline']} in the baseline"
    )


def _not_asked(notes: Sequence[str]) -> list[str]:
    """`KEY: RULE: why` notes, one line per (rule, why) with the number of keys."""
    keys: dict[str, set[str]] = {}
    for n in notes:
        key, _, rest = n.partition(": ")
        keys.setdefault(rest, set()).add(key)
    return [
        f"not asked on {len(ks)} key{'s' if len(ks) != 1 else ''}: {rest}"
        for rest, ks in keys.items()
    ]


def render_text(reports: Sequence[AuditReport], flags: Sequence[str] = ()) -> str:
    lines: list[str] = []
    several = len({r.world for r in reports}) > 1
    every = [f for r in reports for f in r.findings]
    for world_file in dict.fromkeys(r.world for r in reports):
        mine = [r for r in reports if r.world == world_file]
        if several:
            lines.append(f"{world_file}:")
        if any(r.errors for r in mine):
            bad = sum(len(r.errors) for r in mine)
            lines.append(
                f"not audited: bad input ({bad} error{'s' if bad != 1 else ''}, on stderr)"
            )
        findings = [f for r in mine for f in r.findings]
        for key in dict.fromkeys(f.key for f in sorted(findings, key=lambda f: f.key)):
            kind = "bucket" if key.startswith("arn:aws:s3") else "key"
            lines.append(f"{kind} {key}")
            # a directory's world file was read without the template flags
            own = flags if all(r.read_with_flags for r in mine) else ()
            for f in sorted((f for f in findings if f.key == key), key=_order):
                lines += [f"  {line}" for line in _finding_text(f, own)]
        lines += _not_asked([x for r in mine for x in r.not_asked])
        assumed = [x for f in findings if f.answer for x in f.answer.inputs_assumed]
        lines += [f"input assumed: {x}" for x in dict.fromkeys(assumed)]
    worlds = len({r.world for r in reports})
    lines.append(summary_line(every, worlds, sum(r.keys for r in reports)))
    return "\n".join(lines) + "\n"


def finding_json(f: AuditFinding) -> dict[str, Any]:
    s = f.suppressed
    return {
        "rule": f.rule.id,
        "severity": f.severity.label,
        "status": f.status.value,
        "title": f.rule.title,
        "key": f.key,
        "subject": f.subject,
        "message": f.message,
        "evidence": evidence(f),
        "question": f.question,
        "world": f.world,
        "fingerprint": f.fingerprint,
        "locations": [
            {"file": r.file, "line": r.line, "col": r.col, "sid": r.sid} for r in f.locations
        ],
        "answer": answer_json(f.answer) if f.answer is not None else None,
        "fix": f.rule.fix,
        "help_uri": f.rule.help_uri,
        "suppressed": None
        if s is None
        else {"rule": s.rule, "key": s.key, "sid": s.sid, "reason": s.reason, "expires": s.expires},
        "in_baseline": f.in_baseline,
        "counts": f.counts,
    }


def rule_json(r: Rule) -> dict[str, Any]:
    return {
        "id": r.id,
        "severity": r.severity.label,
        "title": r.title,
        "description": r.description,
        "help_uri": r.help_uri,
        "fix": r.fix,
        "questions": list(r.asks),
    }


def render_json(reports: Sequence[AuditReport], warnings: Sequence[Diagnostic] = ()) -> str:
    every = [f for r in reports for f in r.findings]
    worlds: dict[str, dict[str, Any]] = {}
    for r in reports:
        row = worlds.setdefault(r.world, {"keys": 0, "findings": 0, "errors": 0, "seconds": 0.0})
        row["keys"] += r.keys
        row["findings"] += len(r.findings)
        row["errors"] += len(r.errors)
        row["seconds"] = round(row["seconds"] + r.seconds, 4)
    doc = {
        "findings": [finding_json(f) for f in sorted(every, key=_order)],
        "summary": counts(every),
        "not_asked": list(dict.fromkeys(n for r in reports for n in r.not_asked)),
        "rules": [rule_json(r) for r in RULES],
        "worlds": [{"world": w, **row} for w, row in worlds.items()],
        "errors": [diagnostic_json(r.world, d) for r in reports for d in r.errors],
        "warnings": [diagnostic_json("", d) for d in warnings],
    }
    return json.dumps(doc, indent=2)


# --------------------------------------------------------------------------
# SARIF 2.1.0


def _sarif_rule(r: Rule) -> dict[str, Any]:
    name = "".join(w.capitalize() for w in r.id.split("-"))
    text = f"{r.fix} See {r.help_uri}"
    return {
        "id": r.sarif_id,
        "name": name,
        "shortDescription": {"text": r.title[0].upper() + r.title[1:]},
        "fullDescription": {"text": r.description},
        "help": {"text": text, "markdown": f"{r.fix}\n\n[{r.help_uri}]({r.help_uri})"},
        "helpUri": r.help_uri,
        "defaultConfiguration": {"level": LEVELS[r.severity.label]},
        "properties": {
            "tags": ["security", "aws-kms"],
            "precision": "very-high",
            "problem.severity": "error" if r.severity >= Severity.HIGH else "warning",
            "security-severity": SECURITY_SEVERITY[r.severity.label],
        },
    }


def _sarif_result(f: AuditFinding, base: Path, baseline: bool) -> dict[str, Any]:
    refs = [SourcePos(r.file, r.line, r.col) for r in f.locations]
    primary = _location(refs[0] if refs else SourcePos(f.world or "<world>", 1, 1), base)
    related = [
        _location(p, base, n, "also lets it in" if _is_witness(f) else "also about it")
        for n, p in enumerate(refs[1:], 1)
    ]
    text = "\n".join([f"{f.rule.title}: {f.key}", *evidence(f), f"asked: {f.question}"])
    out: dict[str, Any] = {
        "ruleId": f.rule.sarif_id,
        "ruleIndex": RULES.index(f.rule),
        "level": LEVELS[f.severity.label],
        "message": {"text": text},
        "locations": [primary],
        "relatedLocations": related,
        "partialFingerprints": {"kmsprove/audit/v1": f.fingerprint},
        "properties": {
            "key": f.key,
            "severity": f.severity.label,
            "status": f.status.value,
            "question": f.question,
        },
    }
    if f.status is Status.UNKNOWN:
        out["kind"] = "open"  # undecided: SARIF's "open" result has level none
        out["level"] = "none"
    if f.suppressed is not None:
        out["suppressions"] = [{"kind": "external", "justification": f.suppressed.reason}]
    if baseline:
        out["baselineState"] = "unchanged" if f.in_baseline else "new"
    return out


def sarif_log(
    reports: Sequence[AuditReport], base: Path | None = None, baseline: bool = False
) -> dict[str, Any]:
    here = Path.cwd() if base is None else base
    driver: dict[str, Any] = {"name": "kmsprove", "version": _version()}
    uri = _information_uri()
    if uri:
        driver["informationUri"] = uri
    driver["rules"] = [_sarif_rule(r) for r in RULES]
    every = sorted((f for r in reports for f in r.findings), key=_order)
    errors = [d for r in reports for d in r.errors]
    notes = [
        {
            "level": "error",
            "message": {"text": f"not audited (bad input): {d.message}"},
            "locations": [_location(d.pos, here)],
        }
        for d in errors
    ]
    notes += [
        {
            "level": "warning",
            "message": {"text": f"`{f.rule.id}` is unknown on {f.key}: {f.message}"},
            "locations": [_location(SourcePos(f.world or "<world>", 1, 1), here)],
        }
        for f in every
        if f.status is Status.UNKNOWN
    ]
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": driver},
                "originalUriBaseIds": {SRCROOT: {"uri": here.resolve().as_uri() + "/"}},
                "invocations": [
                    {"executionSuccessful": not errors, "toolExecutionNotifications": notes}
                ],
                "columnKind": "unicodeCodePoints",
                "results": [_sarif_result(f, here, baseline) for f in every],
            }
        ],
    }


def render_audit(
    reports: Sequence[AuditReport],
    fmt: str,
    shown: Shown | None = None,
    notes: Sequence[Diagnostic] = (),
) -> str:
    """The run's report in `fmt` (text, json or sarif); `notes` are what went to stderr:
    JSON lists the warnings among them (its `errors` come from the reports)."""
    if fmt == "json":
        return render_json(reports, [d for d in notes if not d.is_error])
    shown = shown or Shown()
    if fmt == "sarif":
        return json.dumps(sarif_log(reports, baseline=shown.baseline), indent=2)
    return render_text(reports, shown.flags)


__all__ = ["counts", "evidence", "finding_json", "render_audit", "sarif_log"]

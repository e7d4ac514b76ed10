"""Suppressions (JSON or YAML: rule, key or sid, reason, expires) and baselines (an
earlier JSON report): what they silence, what expiry does, and every problem of the
files positioned."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from kmsprove.errors import InputError
from kmsprove.questions.audit.suppress import apply, read_baseline, read_suppressions
from tests.questions.audit.common import audited, found
from tests.support.builders import KEY, ROOT_A, ROOT_B, policy, stmt

PARTNER = policy(
    stmt(principal=ROOT_A), stmt(principal=ROOT_B, action="kms:Decrypt", sid="Partner")
)
TODAY = datetime.date(2026, 6, 1)


def entries(tmp: Path, *items: dict, name: str = "s.json") -> str:
    path = tmp / name
    path.write_text(json.dumps({"suppressions": list(items)}, indent=2))
    return str(path)


def test_a_suppression_by_key_or_by_sid_silences_the_finding(tmp_path: Path) -> None:
    _, result = audited(tmp_path, PARTNER)
    (f,) = found(result, "external-decrypt")
    for by in ({"key": KEY}, {"sid": "Partner"}):
        supps = read_suppressions(
            entries(tmp_path, {"rule": "external-decrypt", "reason": "partner", **by})
        )
        marked, notes = apply(result.findings, supps, today=TODAY)
        (m,) = [x for x in marked if x.rule.id == "external-decrypt"]
        assert m.suppressed is not None and not m.counts and notes == []
        assert m.fingerprint == f.fingerprint


def test_an_expired_suppression_silences_nothing_and_says_so(tmp_path: Path) -> None:
    _, result = audited(tmp_path, PARTNER)
    path = entries(
        tmp_path,
        {
            "rule": "external-decrypt",
            "sid": "Partner",
            "reason": "until the migration",
            "expires": "2026-05-31",
        },
    )
    marked, notes = apply(result.findings, read_suppressions(path), today=TODAY)
    assert all(m.suppressed is None for m in marked)
    (note,) = notes
    assert note.severity.value == "warning" and "expired on 2026-05-31" in note.message
    assert (note.pos.file, note.pos.line) == (path, 3)
    _, still = apply(result.findings, read_suppressions(path), today=datetime.date(2026, 5, 31))
    assert still == []


def test_a_suppression_that_matches_nothing_is_reported(tmp_path: Path) -> None:
    _, result = audited(tmp_path, PARTNER)
    path = entries(tmp_path, {"rule": "public", "key": KEY, "reason": "old"})
    _, notes = apply(result.findings, read_suppressions(path), today=TODAY)
    assert [n.message for n in notes] == [
        f"suppression of `public` for {KEY} matches no finding: remove it if it is stale"
    ]


def test_yaml_suppressions(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "- rule: external-decrypt\n  sid: Partner\n  reason: partner account\n"
        "  expires: '2030-01-01'\n"
    )
    (s,) = read_suppressions(str(path))
    assert (s.rule, s.sid, s.expires, s.pos.line) == (
        "external-decrypt",
        "Partner",
        "2030-01-01",
        1,
    )


def test_every_problem_of_a_suppressions_file_is_positioned(tmp_path: Path) -> None:
    path = entries(
        tmp_path,
        {"rule": "external-decryp", "key": KEY, "reason": "x"},
        {"rule": "public", "reason": "x"},
        {"rule": "public", "key": KEY, "reason": "x", "expires": "tomorrow", "why": 1},
    )
    with pytest.raises(InputError) as exc:
        read_suppressions(path)
    messages = [f"{d.pos.line}: {d.message}" for d in exc.value.diagnostics]
    assert any(
        "no rule `external-decryp` (did you mean `external-decrypt`?)" in m for m in messages
    )
    assert any("names what it is about" in m for m in messages)
    assert any("`expires` is a date YYYY-MM-DD, not `tomorrow`" in m for m in messages)
    assert any("unknown field `why`" in m for m in messages)
    assert all(d.pos.file == path for d in exc.value.diagnostics)


def test_a_baseline_knows_earlier_findings(tmp_path: Path) -> None:
    _, result = audited(tmp_path, PARTNER)
    (f,) = found(result, "external-decrypt")
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps({"findings": [{"rule": f.rule.id, "fingerprint": f.fingerprint}]}))
    marked, _ = apply(result.findings, baseline=read_baseline(str(path)), today=TODAY)
    assert [m.in_baseline for m in marked if m.rule.id == "external-decrypt"] == [True]
    assert [m.in_baseline for m in marked if m.rule.id != "external-decrypt"] == [
        False for m in marked if m.rule.id != "external-decrypt"
    ]


def test_a_baseline_that_is_no_audit_report_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text('{"results": []}')
    with pytest.raises(InputError, match="not an audit report"):
        read_baseline(str(path))

"""The rules table: every rule is complete and distinct, every question it asks is in
the query language (placeholders filled as a key's audit fills them), every `check`
has its runner, and the severities order `--fail-on`."""

from __future__ import annotations

import re

import pytest

from kmsprove.questions.audit.rules import SEVERITIES, Rule, Severity, parsed, question
from kmsprove.questions.audit.runners import RUNNERS
from kmsprove.questions.audit.table import RULES, rule, rule_ids
from tests.support.builders import KEY, A, B

FILLED = {
    "on_key": f"on key {KEY}",
    "outside": f"outside account {A}",
    "inside": f"in account {A}",
    "zone_accounts": A,
    "mentioned": f"{A},{B}",
    "principal": f"arn:aws:iam::{A}:role/KeyAdmin",
    "who": f"any principal in account {B}",
    "actions": "kms:ScheduleKeyDeletion, kms:DisableKey",
    "bucket": "arn:aws:s3:::shared-bucket",
    "bucket_account": A,
}


def test_rule_ids_are_distinct_and_stable_words() -> None:
    ids = rule_ids()
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", i) for i in ids)


@pytest.mark.parametrize("r", RULES, ids=lambda r: r.id)
def test_every_rule_is_complete(r: Rule) -> None:
    assert r.check in RUNNERS
    assert r.help_uri.startswith("https://")
    assert r.title and r.title[0].islower() and not r.title.endswith(".")
    assert r.fix and r.description and r.asks
    assert rule(r.id) is r


@pytest.mark.parametrize("r", RULES, ids=lambda r: r.id)
def test_every_question_is_in_the_query_language(r: Rule) -> None:
    for template in r.asks:
        text = question(template, **FILLED)
        assert "{" not in text, text
        assert parsed(text).text == text


def test_severities_are_ordered_highest_first() -> None:
    assert SEVERITIES == ("critical", "high", "medium", "low", "info")
    assert Severity.named("high") > Severity.named("medium") > Severity.INFO
    assert {r.severity for r in RULES} <= set(Severity)

"""The vocabulary of the audit's rules: `Severity`, `Rule` (the table itself is data, in
`kmsprove.questions.audit.table`), and the text of the questions a rule asks of a key
(`question`, `parsed`).

A rule is an id, a severity, a title, what a finding means, the AWS page behind it, the
fix, how its answers become findings (`check`, run by `kmsprove.questions.audit.runners`)
and the questions it asks, written in the query language with placeholders for the
key, the zone of trust and the principal or statement it is about.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import cache

from kmsprove.ast import Query
from kmsprove.syntax.query import parse_query


class Severity(enum.IntEnum):
    """How bad a finding is; ordered, so `--fail-on` compares."""

    INFO = 0  # worth knowing, nothing to fix
    LOW = 1  # misleading or untidy: nobody gets in through it
    MEDIUM = 2  # more access than needed, inside the zone of trust
    HIGH = 3  # access outside the zone of trust, or the key can be lost
    CRITICAL = 4  # any AWS account can use the key

    @property
    def label(self) -> str:
        return self.name.lower()

    @staticmethod
    def named(text: str) -> Severity:
        return Severity[text.upper()]


SEVERITIES = tuple(s.label for s in sorted(Severity, reverse=True))


@dataclass(frozen=True, slots=True)
class Rule:
    id: str  # `external-decrypt`: what suppressions and SARIF name it by
    severity: Severity
    title: str  # one line: what is wrong
    description: str  # what a finding means, and what it is proved from
    help_uri: str  # the AWS page behind the rule
    fix: str  # what to change
    check: str  # how its answers become findings (`runners.RUNNERS`)
    asks: tuple[str, ...]  # query templates (`question`)

    @property
    def sarif_id(self) -> str:
        return f"kmsprove/audit/{self.id}"


def question(template: str, **values: str) -> str:
    """A rule's question with its placeholders filled (`{on_key}` -> `on key ARN`...)."""
    text = template
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return " ".join(text.split())


@cache
def parsed(text: str) -> Query:
    """A question's `Query` (every template is in the query language: a parse error here
    is a bug in the table, which tests/questions/audit/test_rules.py rules out)."""
    return parse_query(text, "<audit rule>")


__all__ = ["SEVERITIES", "Rule", "Severity", "parsed", "question"]

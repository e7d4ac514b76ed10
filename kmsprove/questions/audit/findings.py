"""Audit results: `AuditFinding` (one rule's finding on one key or bucket), the zone of
trust a key is audited against (`Zone`), and the two ways an answer becomes a finding.

A finding is either FOUND, with its evidence: a request the evaluator allowed (or an
`ever` trace, replayed), or a proof that something never works (lockout, inert
permissions, a shared bucket no other account can read), with the statement it is
about; or UNKNOWN, with the reason the question could not be decided. A rule whose
question the solver answers "no" gives no finding: that absence is the proof.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field, replace

from kmsprove.answer import Answer, Verdict
from kmsprove.errors import InputError, SourcePos
from kmsprove.evaluate import evaluate
from kmsprove.evaluate.context import complete_request
from kmsprove.questions.audit.rules import Rule, Severity
from kmsprove.questions.check import letting_in
from kmsprove.request import StatementRef
from kmsprove.solve.decode import witness_world
from kmsprove.solve.recheck import DISAGREE
from kmsprove.world import Key, World


class Status(enum.Enum):
    FOUND = "found"  # a re-checked witness or trace, or a proof that something never works
    UNKNOWN = "unknown"  # the question could not be decided: never silence, never "no"


@dataclass(frozen=True, slots=True)
class Suppression:
    """One entry of a suppressions file (`kmsprove.questions.audit.suppress`)."""

    rule: str
    reason: str
    key: str | None = None  # the key ARN (or bucket ARN) it is about
    sid: str | None = None  # or the Sid of the statement that lets the finding in
    expires: str | None = None  # YYYY-MM-DD; after that day the finding counts again
    pos: SourcePos = field(default=SourcePos("<suppressions>", 1, 1), compare=False)


@dataclass(frozen=True)
class AuditFinding:
    rule: Rule
    status: Status
    key: str  # the key ARN (a bucket's ARN for a bucket whose key the world lacks)
    subject: str  # what it is about besides the key: a service, a principal, a statement
    message: str  # one line: what was found
    question: str  # the question asked, in the query language
    answer: Answer | None = None  # its answer (None: the rule's proof needed none)
    locations: tuple[StatementRef, ...] = ()  # what lets it in, or what it is about
    details: tuple[str, ...] = ()  # more evidence lines
    world: str = ""  # the world file it was found in
    suppressed: Suppression | None = None
    in_baseline: bool = False  # `--baseline`: an earlier run found it too

    @property
    def severity(self) -> Severity:
        """An unknown is at least as severe as the rule: what it might hide is."""
        return self.rule.severity

    @property
    def fingerprint(self) -> str:
        """Stable across runs and line moves: rule, key and subject."""
        text = "\0".join((self.rule.id, self.key, self.subject))
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    @property
    def counts(self) -> bool:
        """Neither suppressed nor known from the baseline: it decides the exit code."""
        return self.suppressed is None and not self.in_baseline

    @property
    def sids(self) -> tuple[str, ...]:
        return tuple(r.sid for r in self.locations if r.sid)


@dataclass(frozen=True, slots=True)
class Zone:
    """The zone of trust of one key: the accounts inside it (the key's first), and the
    organization when it is `--zone org`."""

    accounts: tuple[str, ...]
    org: str | None = None

    @property
    def outside(self) -> str:
        """The `who` of a question about principals outside the zone."""
        if self.org:
            return f"outside org {self.org}"
        return f"outside account {','.join(self.accounts)}"

    @property
    def inside(self) -> str:
        return f"in account {','.join(self.accounts)}"


def is_synthetic(file: str) -> bool:
    """A document a step wrote, a witness policy, a built-in: no file to point at."""
    return file.startswith("<")


def key_policy_ref(key: Key) -> StatementRef | None:
    """Where the key's policy is written (a key in no file: its entry), for findings
    about the key as a whole."""
    for pos in (key.policy.pos, key.pos):
        if not is_synthetic(pos.file):
            return StatementRef.at(None, pos, True, "Allow", "the key policy")
    return None


def unknown(rule: Rule, key: str, subject: str, question: str, answer: Answer) -> AuditFinding:
    return AuditFinding(
        rule, Status.UNKNOWN, key, subject, f"unknown: {answer.reason}", question, answer
    )


def recheck(world: World, answer: Answer) -> Answer:
    """The answer's witness decided again by the evaluator in `world` (plus the identity
    policies the answer assumed): a "yes" found in a narrower view of the world (the
    in-zone rules') must hold in the world itself, else it is unknown."""
    r = answer.counterexample
    if answer.verdict is not Verdict.YES or r is None or answer.trace:
        return answer  # a trace was replayed step by step from the world as given
    there = witness_world(world, r, dict(answer.assumed))
    try:
        full = complete_request(there, r)
    except InputError as exc:
        return replace(
            answer, verdict=Verdict.UNKNOWN, reason=f"{DISAGREE}: {exc.diagnostics[0].message}"
        )
    decision = evaluate(there, full)
    if not decision.allowed:
        return replace(
            answer,
            verdict=Verdict.UNKNOWN,
            reason=f"{DISAGREE}: the evaluator denies it ({decision.reason})",
        )
    return replace(answer, counterexample=full, decision=decision, checked_world=there)


def from_yes(
    rule: Rule,
    world: World,
    key: Key,
    question: str,
    answer: Answer,
    subject: str = "",
    message: str = "",
) -> AuditFinding | None:
    """A finding from a question whose "yes" is the pitfall: None for a proved "no"."""
    if answer.verdict is Verdict.NO:
        return None
    answer = recheck(world, answer)
    if answer.verdict is Verdict.UNKNOWN:
        return unknown(rule, key.arn, subject, question, answer)
    r = answer.counterexample
    assert r is not None
    text = message or f"{r.principal} may call {r.action}"
    return AuditFinding(
        rule,
        Status.FOUND,
        key.arn,
        subject,
        text,
        question,
        answer,
        tuple(letting_in(world, answer, key)),
    )


def from_no(
    rule: Rule,
    key: str,
    question: str,
    answer: Answer,
    message: str,
    about: tuple[StatementRef, ...],
    subject: str = "",
) -> AuditFinding | None:
    """A finding from a question whose proved "no" is the pitfall: None for a "yes"."""
    if answer.verdict is Verdict.YES:
        return None
    if answer.verdict is Verdict.UNKNOWN:
        return replace(unknown(rule, key, subject, question, answer), locations=about)
    return AuditFinding(rule, Status.FOUND, key, subject, message, question, answer, about)


__all__ = ["AuditFinding", "Status", "Suppression", "Zone", "from_no", "from_yes", "unknown"]

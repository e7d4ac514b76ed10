"""Results of every question kind, and the exit status a command derives from them.

Vocabulary, like `request.py`: the question kinds (`kmsprove.questions`) build these,
the reports (`kmsprove.report`) read them, and neither needs the other. Every result
is frozen; a question that refines one does so with `dataclasses.replace`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kmsprove.ast import Expectation
from kmsprove.errors import SourcePos
from kmsprove.request import Decision, Request, StatementRef
from kmsprove.world import World


class ExitCode(enum.IntEnum):
    """The command-line contract (DESIGN.md)."""

    OK = 0  # answered; no errors, nothing failed
    FINDING = 1  # check: an expectation fails; diff: new access
    BAD_INPUT = 2  # positioned errors on stderr, nothing written
    UNKNOWN = 3  # nothing failed, but something could not be decided


def exit_status(*, failed: bool, unknown: bool) -> ExitCode:
    """A failure outranks an unknown, which outranks success."""
    if failed:
        return ExitCode.FINDING
    return ExitCode.UNKNOWN if unknown else ExitCode.OK


# --------------------------------------------------------------------------
# query: yes, no or unknown, with the request that gets in


class Verdict(enum.Enum):
    YES = "yes"  # some request matching the query is allowed: here it is
    NO = "no"  # no request matching the query is allowed (a proof, under the assumptions)
    UNKNOWN = "unknown"  # timeout or something not modelled: neither yes nor no


def _no_assumptions() -> Mapping[str, str]:
    return {}


@dataclass(frozen=True)
class Answer:
    """One query's answer for one key (or one bucket)."""

    verdict: Verdict
    key: str | None = None
    counterexample: Request | None = None
    decision: Decision | None = None  # the evaluator's decision on the counterexample
    witness: tuple[str, ...] = ()  # identity policies assumed for unnamed principals
    open_accounts: tuple[str, ...] = ()
    reason: str = ""
    seconds: float = 0.0
    trace: tuple[Mapping[str, Any], ...] = ()  # `ever`: the steps before the request
    trusted: tuple[str, ...] = ()
    not_modelled: tuple[str, ...] = ()  # steps a "no" does not cover
    # unnamed caller -> the identity policy its administrators would have to write
    assumed: Mapping[str, str] = field(default_factory=_no_assumptions)
    # a "yes": the world the evaluator allowed the counterexample in (the given one plus
    # what `assumed` and `trace` add), and the request as its caller sends it (the
    # context that world derives left out): together they reproduce the answer
    checked_world: World | None = field(default=None, compare=False, repr=False)
    shown: Request | None = None
    notes: tuple[str, ...] = ()  # why a "yes" matters (a service no condition ties down)
    inputs_assumed: tuple[str, ...] = ()  # what the input reader assumed (`World.assumed`)

    @property
    def rests_on_assumptions(self) -> bool:
        """The given world alone does not allow the counterexample (an assumed identity
        policy, or the steps of a trace): only the checked world reproduces it."""
        return bool(self.assumed) or bool(self.trace)


# --------------------------------------------------------------------------
# check: one outcome per (expectation, key)


class CheckStatus(enum.Enum):
    HOLDS = "holds"  # the answer is the one the line expects
    FAILS = "fails"  # the answer is the other one; the evidence is in the outcome
    UNKNOWN = "unknown"  # no answer (timeout, not modelled): neither holds nor fails


@dataclass(frozen=True)
class Outcome:
    """What came of one expectation on one key."""

    expectation: Expectation
    key: str | None  # the key ARN; a query without `on key` is checked on every key
    status: CheckStatus
    answer: Answer  # the query's answer for that key
    # failing `expect no`: real file statements that let the counterexample in
    locations: tuple[StatementRef, ...] = ()
    blocked_by: str | None = None  # failing `expect yes`: which layer blocks, and why
    seconds: float = 0.0
    key_policy: SourcePos | None = None  # where the key's policy is written, for reports


# --------------------------------------------------------------------------
# diff: the relation of two sides, with a witness per direction


class FindingStatus(enum.Enum):
    FOUND = "found"  # a witness request, re-checked by the evaluator on both sides
    NONE = "none"  # proved: no request of this direction (under the stated assumptions)
    UNKNOWN = "unknown"  # timeout, not modelled, a bound, or an unconfirmed witness


@dataclass(frozen=True)
class Finding:
    """One direction's answer."""

    status: FindingStatus
    request: Request | None = None  # the witness, completed as the allowing side sees it
    reason: str = ""
    where: str = ""  # the key (or resource class) compared
    allows: str = ""  # the evaluator's reason on the side that allows
    denies: str = ""  # the evaluator's reason on the side that denies
    assumed: Mapping[str, str] = field(default_factory=_no_assumptions)


class Relation(enum.Enum):
    EQUIVALENT = "equivalent"  # no request is allowed by one side and denied by the other
    MORE = "more-permissive"  # NEW allows some request OLD denies, never the reverse
    LESS = "less-permissive"  # OLD allows some request NEW denies, never the reverse
    INCOMPARABLE = "incomparable"  # each allows a request the other denies
    UNKNOWN = "unknown"  # some direction is undecided


@dataclass(frozen=True)
class DiffResult:
    relation: Relation
    new_access: Finding  # allowed by NEW, denied by OLD
    removed_access: Finding  # allowed by OLD, denied by NEW
    kind: str  # key-policy | identity-policy | world
    compared: tuple[str, ...] = ()  # keys (or resource classes) compared
    assumptions: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def new_access_shown(self) -> bool:
        """A re-checked request NEW allows and OLD denies (exit 1, whatever else)."""
        return self.new_access.status is FindingStatus.FOUND


def relation_of(new: FindingStatus, removed: FindingStatus) -> Relation:
    if FindingStatus.UNKNOWN in (new, removed):
        return Relation.UNKNOWN
    return {
        (FindingStatus.FOUND, FindingStatus.FOUND): Relation.INCOMPARABLE,
        (FindingStatus.FOUND, FindingStatus.NONE): Relation.MORE,
        (FindingStatus.NONE, FindingStatus.FOUND): Relation.LESS,
        (FindingStatus.NONE, FindingStatus.NONE): Relation.EQUIVALENT,
    }[(new, removed)]


# --------------------------------------------------------------------------
# who: every principal and class of principals that can, and whether that is all


class WhoStatus(enum.Enum):
    COMPLETE = "complete"  # everyone listed can, and nobody else can (a proof)
    UNKNOWN = "unknown"  # whether someone else can is not known (timeout, not modelled...)


@dataclass(frozen=True)
class WhoFound:
    """One principal, or one class of unnamed principals, that can; `answer` is its
    witness (a re-checked "yes"), or an unknown when the evaluator did not confirm it."""

    named: bool  # a principal the world names; False: a class of unnamed principals
    type: str  # user | role (its sessions) | federated-user | root | service
    principal: str | None  # named: its ARN (a role's), or the service; a class: None,
    # except the federated users of a named IAM user (then the user's ARN)
    account: str | None  # its account; None: a service, or an account nobody mentions
    acting_for: str | None  # a named service: the account it acts for; "*": any other or none
    answer: Answer

    @property
    def confirmed(self) -> bool:
        return self.answer.verdict is Verdict.YES


@dataclass(frozen=True)
class WhoResult:
    """Who can use one key: `found` in the order found; COMPLETE proves nobody else can."""

    key: str
    actions: tuple[str, ...]  # the query's actions, wildcards expanded
    status: WhoStatus
    found: tuple[WhoFound, ...] = ()
    reason: str = ""  # the proof's wording, or why it is unknown
    open_accounts: tuple[str, ...] = ()
    trusted: tuple[str, ...] = ()  # left out of the enumeration (`--trust`)
    inputs_assumed: tuple[str, ...] = ()
    queries: int = 0  # solver questions asked
    seconds: float = 0.0

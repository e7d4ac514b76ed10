"""What every rule of one key's audit shares (`KeyAudit`), and the two ways it asks a
question: today (`ask_today`, `kmsprove.questions.today`, with principals barred from
being the caller) and over time (`ask_over_time`, `kmsprove.questions.ever`). Both are
the answers `kmsprove query` gives, hedged by what the inputs leave unsettled.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

from kmsprove.answer import Answer, Verdict
from kmsprove.arn import parse_caller, partition_of
from kmsprove.ast import Query
from kmsprove.encode.universe import mentioned
from kmsprove.evaluate.keystate import type_forbids
from kmsprove.questions.audit.findings import AuditFinding, Zone
from kmsprove.questions.audit.rules import Rule, parsed, question
from kmsprove.questions.ever import ask_ever_key
from kmsprove.questions.hedge import hedge_answer
from kmsprove.questions.today import query_actions, solve_today
from kmsprove.world import Key, World


@dataclass(frozen=True)
class AuditOptions:
    """How a world is audited (the command's options, validated by `audit_options`)."""

    zone: str = "account"  # `account`, `org`, or account ids `A,B`
    trusted: tuple[str, ...] = ()  # `--trust`: principals that take no steps (`ever`)
    admins: tuple[str, ...] = ()  # `--admin`: the key administrators, when given
    timeout: float = 30.0  # per question, seconds


@dataclass
class KeyAudit:
    """One key's audit: the world, the key, its zone of trust and administrators, and
    what was not asked (and why), collected as the rules run."""

    world: World
    key: Key
    zone: Zone
    admins: tuple[str, ...]
    options: AuditOptions
    not_asked: list[str] = field(default_factory=list)
    gates: dict[str, Answer] = field(default_factory=dict)

    def fill(self, template: str, **values: str) -> str:
        """A rule's question about this key."""
        return question(
            template,
            on_key=f"on key {self.key.arn}",
            outside=self.zone.outside,
            inside=self.zone.inside,
            zone_accounts=",".join(self.zone.accounts),
            mentioned=",".join(self.mentioned),
            **values,
        )

    @cached_property
    def mentioned(self) -> tuple[str, ...]:
        """Every account the world mentions, and the zone's: a principal of none of them
        is one of any account's at all."""
        return tuple(sorted({*mentioned_accounts(self.world), *self.zone.accounts}))

    def gate(
        self,
        name: str,
        world: World,
        who: str,
        rules: Sequence[Rule],
        exclude: tuple[str, ...] = (),
    ) -> Answer:
        """One question, asked once per key and `name`: can `who` call any action of the
        gated `rules`' questions? Each of those asks a subset of it (the same callers,
        fewer actions), so a "no" here proves all of them no at once; a "yes" or an
        unknown decides nothing."""
        if name not in self.gates:
            actions = dict.fromkeys(
                a for r in rules if gated(r) for t in r.asks for a in parsed(self.fill(t)).actions
            )
            text = f"can {who} {', '.join(actions)} on key {self.key.arn}"
            self.gates[name] = ask_today(world, text, self.key, self.options.timeout, exclude)
        return self.gates[name]

    def skip(self, rule: Rule, why: str) -> list[AuditFinding]:
        self.not_asked.append(f"{rule.id}: {why}")
        return []

    @property
    def barred(self) -> tuple[str, ...]:
        """Who the in-zone rules leave out: the key administrators and the zone's root
        users (the account principal administers the key, R1.4)."""
        part = partition_of(self.key.arn)
        roots = tuple(f"arn:{part}:iam::{a}:root" for a in self.zone.accounts)
        return tuple(dict.fromkeys((*self.admins, *roots)))


def settles(gate: Answer, text: str) -> Answer | None:
    """The gate's answer as the answer to one of the questions it gates: its "no" proves
    that question no, and a witness whose action the question asks is the question's
    own witness (the same callers); otherwise (another action, an unknown) None."""
    if gate.verdict is Verdict.NO:
        return gate
    r = gate.counterexample
    if gate.verdict is Verdict.YES and r is not None and r.action in query_actions(parsed(text)):
        return gate
    return None


# grant calls carry kms:GrantIsForAWSResource, whose presence is open (10.22): a question
# about them without the rule's own condition can take the solver far longer
_GRANT_CALLS = ("kms:creategrant", "kms:revokegrant", "kms:listgrants")


def gated(rule: Rule) -> bool:
    """A rule a gate may settle: its questions have no `where` and no grant calls."""
    return all(
        " where " not in t and not any(g in t.lower() for g in _GRANT_CALLS) for t in rule.asks
    )


def narrowed(query: Query, key: Key) -> tuple[Query | None, str]:
    """The query without the actions the key's type can never perform (R3.5: a "no"
    for every caller, which the solver proves more slowly than it is read off the key),
    or None when no action is left; and why those were dropped."""
    actions = query_actions(query)
    why = {a: r for a in actions if (r := type_forbids(key, a.split(":", 1)[1])) is not None}
    if not why:
        return query, ""
    kept = tuple(a for a in actions if a not in why)
    reason = "; ".join(why.values())
    return (replace(query, actions=kept) if kept else None), reason


def ask_today(
    world: World, text: str, key: Key, timeout: float, exclude: tuple[str, ...] = ()
) -> Answer:
    """Today's answer to a question about `key` (the key as `world` holds it), with the
    principals of `exclude` barred from being the caller."""
    start = time.perf_counter()
    held = world.find_key(key.arn) or key
    query, dropped = narrowed(parsed(text), held)
    if query is None:
        return Answer(Verdict.NO, key=key.arn, reason=f"no request can succeed: {dropped}")
    answer = solve_today(world, query, held, timeout, exclude)
    answer = replace(answer, key=key.arn, seconds=time.perf_counter() - start)
    return hedge_answer(world, answer)


def ask_over_time(
    world: World, text: str, key: Key, timeout: float, trusted: tuple[str, ...] = ()
) -> Answer:
    """The `ever` answer: a trace of steps, or a proof for traces of any length."""
    query, dropped = narrowed(parsed(text), key)
    if query is None:
        return Answer(Verdict.NO, key=key.arn, reason=f"no request can succeed: {dropped}")
    return hedge_answer(world, ask_ever_key(world, query, key, timeout, trusted))


_ACCOUNT = re.compile(r"[0-9]{12}")


def mentioned_accounts(world: World) -> tuple[str, ...]:
    """Every account the world mentions (its accounts, keys, buckets, the principals
    and condition values of its documents): a principal of any other account is one of
    the fresh account's, which stands for every account nobody named."""
    accounts, arns, _ = mentioned(world, None)
    more = {parse_caller(a).account for a in arns}
    return tuple(sorted(a for a in accounts | more if a and _ACCOUNT.fullmatch(a)))


__all__ = ["AuditOptions", "KeyAudit", "ask_over_time", "ask_today", "mentioned_accounts"]

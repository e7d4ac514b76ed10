"""Rules about the zone's own principals: who administers a key (`administrators`),
principals who are no administrator yet manage, delete or grant (`run_inzone`), and
administrators who can also decrypt (`run_admins`).

What the in-zone rules count. The key policy and grants give access directly; through
the account principal (`arn:aws:iam::A:root`) the key hands the rest to A's IAM. Where
the world lists A's principals and their identity policies, what those policies give
counts; what an open account's principals nobody listed might be given by IAM does not
(the world does not hold those policies: auditing them is auditing IAM, and `kmsprove
query` answers that question). So each in-zone question is asked of two views of the
world, and a "yes" in either (re-checked by the evaluator in the world itself) is the
finding:

- `closed`: the zone's accounts complete, so only the principals the world lists or
  its key policies and grants name exist, with the identity policies it gives them
  (none for a principal only a key policy names);
- `direct`: the key policy with only its principals that name nobody in particular
  (`*`, services), the accounts left open, so a principal nobody named gets what the
  key policy gives it directly (`Principal: "*"` with `kms:CallerAccount`, a pattern
  on aws:PrincipalArn) and what grants give. The principals it drops are named, so the
  first view holds all they can get; with nothing left (no such statement, no grant)
  the second question is not asked.

A "no" in both is the proof that no principal outside the administrators can, under
that reading.
"""

from __future__ import annotations

import types
from dataclasses import replace

from kmsprove.arn import parse_caller, partition_of
from kmsprove.ast import Effect, Policy
from kmsprove.questions.audit.context import KeyAudit, ask_today, gated, settles
from kmsprove.questions.audit.findings import AuditFinding, Status, from_yes
from kmsprove.questions.audit.rules import Rule
from kmsprove.questions.audit.table import RULES
from kmsprove.world import Identity, Key, World


def administrators(key: Key, given: tuple[str, ...], sids: tuple[str, ...]) -> tuple[str, ...]:
    """The key's administrators: the principals `--admin` names when given, else the
    users and roles the key policy's administrators statements name (the console's Sid
    `Allow access for Key Administrators`, the CloudFormation guide's `Allow
    administration of the key`, any Sid with `admin` in it). The account root administers every key through the
    account principal (R1.4) and is left out of the in-zone rules in any case."""
    if given:
        return given
    out: list[str] = []
    for policy in key.policies:
        for st in policy.statements:
            if st.effect is not Effect.ALLOW or not names_administrators(st.sid, sids):
                continue
            out += [
                pr.value
                for pr in st.principal or ()
                if pr.kind == "AWS" and parse_caller(pr.value).kind in ("user", "role")
            ]
    return tuple(dict.fromkeys(out))


def names_administrators(sid: str | None, sids: tuple[str, ...]) -> bool:
    """A Sid that says its statement is the administrators': one of `sids`, or any Sid
    with `admin` in it (`Allow key administrators`, `KeyAdmins`), in any case."""
    low = (sid or "").lower()
    return low in {s.lower() for s in sids} or "admin" in low


def named_principals(world: World) -> set[str]:
    """The users and roles the world's key policies and grants name (a session: its
    role), as IAM ARNs."""
    out: set[str] = set()
    arns = [
        pr.value
        for k in world.keys
        for p in k.policies
        for st in p.statements
        for pr in (st.principal or ())
        if pr.kind == "AWS"
    ]
    arns += [a for k in world.keys for g in k.grants for a in (g.grantee, g.retiring) if a]
    for arn in arns:
        c = parse_caller(arn)
        if c.kind in ("user", "role"):
            out.add(arn)
        elif c.kind == "assumed-role" and c.account:
            out.add(f"arn:{partition_of(arn)}:iam::{c.account}:role/{c.name}")
    return out


def closed(world: World, accounts: tuple[str, ...], extra: tuple[str, ...] = ()) -> World:
    """The world with the zone's accounts complete: only the principals it lists, and
    those its key policies and grants (or `extra`) name, with no identity policy but
    the ones it gives them."""
    accts = dict(world.accounts)
    named = named_principals(world) | set(extra)
    for a in accounts:
        acct = world.account(a)
        listed = dict(acct.principals)
        for arn in sorted(named):
            if parse_caller(arn).account == a and world.identity(arn) is None:
                listed[arn] = Identity(arn)
        accts[a] = replace(acct, complete=True, principals=types.MappingProxyType(listed))
    return replace(world, accounts=types.MappingProxyType(accts))


def direct(world: World, key: Key) -> World | None:
    """The world with `key`'s policies keeping only the principals that name nobody in
    particular (`*`, services): what a principal nobody named gets without IAM. None
    when that is nothing (no such Allow statement, no grant): the question is moot."""

    def strip(p: Policy) -> Policy:
        kept = []
        for st in p.statements:
            if st.effect is Effect.ALLOW and st.principal:
                names = tuple(pr for pr in st.principal if pr.is_wildcard or pr.kind == "Service")
                if not names:
                    continue
                st = replace(st, principal=names)
            kept.append(st)
        return replace(p, statements=tuple(kept))

    ram = strip(key.ram_policy) if key.ram_policy is not None else None
    narrowed = replace(key, policy=strip(key.policy), ram_policy=ram)
    allows = any(st.effect is Effect.ALLOW for p in narrowed.policies for st in p.statements)
    if not allows and not key.grants:
        return None
    keys = tuple(narrowed if k.arn == key.arn else k for k in world.keys)
    return replace(world, keys=keys)


def run_inzone(ctx: KeyAudit, rule: Rule) -> list[AuditFinding]:
    """A finding when a principal of the zone, no administrator, can (either view). The
    in-zone rules ask the same callers: one question per view over the actions of the
    plain ones (`gated`) proves them all absent when it is a "no"."""
    views = [closed(ctx.world, ctx.zone.accounts, ctx.admins)]
    views += [v for v in (direct(ctx.world, ctx.key),) if v is not None]
    inzone = [r for r in RULES if r.check == "inzone"]
    who = f"any principal {ctx.zone.inside}"
    out = []
    for template in rule.asks:
        text = ctx.fill(template)
        undecided = None
        for n, view in enumerate(views):
            gate = ctx.gate(f"inside-{n}", view, who, inzone, ctx.barred) if gated(rule) else None
            answer = settles(gate, text) if gate is not None else None
            if answer is None:
                answer = ask_today(view, text, ctx.key, ctx.options.timeout, exclude=ctx.barred)
            found = from_yes(rule, ctx.world, ctx.key, text, answer)
            if found is not None and found.status is Status.FOUND:
                out.append(found)
                break
            undecided = undecided or found
        else:
            if undecided is not None:  # no witness, and no proof in some view
                out.append(undecided)
    return out


def run_admins(ctx: KeyAudit, rule: Rule) -> list[AuditFinding]:
    """A finding per administrator that can also decrypt (in the closed view: what the
    key policy and the identity policies the world lists give it)."""
    admins = [a for a in ctx.admins if parse_caller(a).kind != "root"]
    if not admins:
        return ctx.skip(
            rule,
            "no administrators: no key-policy statement's Sid names them (`Allow access for"
            " Key Administrators`) and --admin names none",
        )
    theirs = [acct for a in admins if (acct := parse_caller(a).account)]
    view = closed(ctx.world, tuple(dict.fromkeys((*ctx.zone.accounts, *theirs))), ctx.admins)
    out = []
    for admin in admins:
        for template in rule.asks:
            text = ctx.fill(template, principal=admin)
            answer = ask_today(view, text, ctx.key, ctx.options.timeout)
            found = from_yes(rule, ctx.world, ctx.key, text, answer, subject=admin)
            if found is not None:
                out.append(found)
    return out


__all__ = ["administrators", "closed", "direct", "run_admins", "run_inzone"]

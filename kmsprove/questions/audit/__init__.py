"""Audit stage: a `World` -> `AuditFinding`s, every rule of the table
(`kmsprove.questions.audit.table`) asked of every key (`audit_world`).

Each rule is one or a few questions in the query language, asked through the same
solve-and-recheck path as `kmsprove query` (`kmsprove.questions.today`, `ever`,
`bucket`): a finding carries a request the evaluator allowed, an `ever` trace replayed
step by step, or a proof that something never works; a rule whose pitfall the solver
proves absent gives no finding; an unknown answer is a finding of its own, never
silence. The zone of trust of a key is its account (`--zone account`), its
organization (`--zone org`) or the accounts `--zone A,B` names with it.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace

from kmsprove.arn import key_arn_parts, parse_caller
from kmsprove.errors import Diagnostic, InputError, SourcePos, error
from kmsprove.questions.audit.context import AuditOptions, KeyAudit
from kmsprove.questions.audit.findings import AuditFinding, Status, Suppression, Zone
from kmsprove.questions.audit.proofs import alias_finding, keyless_buckets
from kmsprove.questions.audit.rules import Rule, Severity
from kmsprove.questions.audit.runners import audit_key
from kmsprove.questions.audit.table import ADMINISTRATOR_SIDS, rule
from kmsprove.questions.audit.zone import administrators
from kmsprove.world import Key, World

CLI = SourcePos("<cli>", 1, 1)
_ACCOUNTS = re.compile(r"[0-9]{12}(,[0-9]{12})*")


@dataclass(frozen=True)
class AuditResult:
    """One world's (or one slice of its keys') findings, and the rules not asked."""

    findings: tuple[AuditFinding, ...]
    not_asked: tuple[str, ...] = ()  # `KEY: RULE: why`
    keys: int = 0
    seconds: float = 0.0


def audit_options(
    zone: str = "account",
    trusted: tuple[str, ...] = (),
    admins: tuple[str, ...] = (),
    timeout: float = 30.0,
) -> AuditOptions:
    """The options from their command-line texts; a malformed one raises `InputError`."""
    diags: list[Diagnostic] = []
    if zone not in ("account", "org") and not _ACCOUNTS.fullmatch(zone):
        diags.append(
            error(CLI, f"--zone takes `account`, `org` or account ids `A,B`, not `{zone}`")
        )
    for a in admins:
        c = parse_caller(a)
        if c.kind not in ("user", "role", "root") or c.account is None:
            diags.append(error(CLI, f"--admin takes an IAM user or role ARN, not `{a}`"))
    if diags:
        raise InputError(diags)
    return AuditOptions(zone, trusted, admins, timeout)


def zone_of(world: World, key: Key, zone: str) -> Zone:
    """The zone of trust of `key`: its account first, then what `zone` adds."""
    if zone == "account":
        return Zone((key.account,))
    if zone != "org":
        return Zone(tuple(dict.fromkeys((key.account, *zone.split(",")))))
    org = world.account(key.account).organization
    if org is None:
        raise InputError.at(
            SourcePos(world.file),
            f"--zone org: the world does not say which organization account {key.account}"
            " (the key's) is in: give the account's `organization`, or --zone ACCOUNT,...",
        )
    members = sorted(a.id for a in world.accounts.values() if a.organization == org)
    return Zone(tuple(dict.fromkeys((key.account, *members))), org)


DEFAULTS = AuditOptions()


def audit_world(
    world: World, options: AuditOptions = DEFAULTS, keyless: bool = True
) -> AuditResult:
    """Every rule on every key of `world`; with `keyless`, also the buckets whose default
    key is no key of the world (a world cut into slices asks them in one slice)."""
    start = time.perf_counter()
    zones = {k.arn: zone_of(world, k, options.zone) for k in world.keys}  # bad input first
    findings: list[AuditFinding] = []
    not_asked: list[str] = []
    for key in world.keys:
        admins = administrators(key, options.admins, ADMINISTRATOR_SIDS)
        ctx = KeyAudit(world, key, zones[key.arn], admins, options)
        findings += audit_key(ctx)
        not_asked += [f"{key.arn}: {n}" for n in ctx.not_asked]
    if keyless:
        alias_rule = rule("s3-alias-default-key")
        findings += [
            alias_finding(world, alias_rule, b, b.arn, options.timeout)
            for b in keyless_buckets(world)
            if key_arn_parts(b.kms_key or "") is None
        ]
    findings = [_placed(f, world.file) for f in findings]
    return AuditResult(
        tuple(findings), tuple(not_asked), len(world.keys), time.perf_counter() - start
    )


def _placed(f: AuditFinding, file: str) -> AuditFinding:
    return replace(f, world=file)


__all__ = [
    "AuditFinding",
    "AuditOptions",
    "AuditResult",
    "Rule",
    "Severity",
    "Status",
    "Suppression",
    "Zone",
    "audit_options",
    "audit_world",
    "zone_of",
]

"""An independent brute force for `who`, on the evaluator alone.

It knows nothing of the solver, the universe or `kmsprove.questions.who`: it reads the
world document, lists the principals it names (Principal and NotPrincipal elements of
every policy, grantees and retiring principals, the accounts' principals, the root of
every account any string mentions) and one fresh principal per class (an unnamed user,
role session and federated user of each open account and of an account nothing
mentions, that account's root, a service nobody names), gives every principal whose
identity policy nobody wrote an allow-all one (an open account's administrators may
write it), and asks `evaluate` about each with a pool of contexts: the empty one and
every pair of the pool's values whose key some condition of the world tests (a
service also with each account as its aws:SourceAccount).

Each allowed caller is reduced to a *descriptor*, `(named, type, account, name,
acting_for)`, the shape `who`'s findings are compared in (`descriptor_of_found`).
"""

from __future__ import annotations

import copy
import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from kmsprove.answer import WhoFound
from kmsprove.arn import is_service_role, parse_caller, unique_id_kind
from kmsprove.errors import InputError
from kmsprove.evaluate import evaluate
from kmsprove.evaluate.context import complete_request
from kmsprove.inputs.world_file import load_world_json
from kmsprove.request import Context, Request
from kmsprove.syntax.json import parse_json
from kmsprove.syntax.tree import JObject
from kmsprove.validate.request import check_request
from kmsprove.world import World

OUTSIDER = "999999999999"  # an account none of the test worlds mentions
FRESH = "bf-fresh"
ALLOW_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
SERVICE_POOL = (
    "sns.amazonaws.com",
    "events.amazonaws.com",
    "cloudtrail.amazonaws.com",
    "logs.amazonaws.com",
)
# context values a condition of the world may test (the key must appear in the world)
CONTEXT_POOL: tuple[tuple[str, Any], ...] = (
    ("kms:ViaService", "s3.us-east-1.amazonaws.com"),
    ("kms:ViaService", "ec2.us-east-1.amazonaws.com"),
    ("kms:ViaService", "ec2.us-west-2.amazonaws.com"),
    ("aws:SourceIp", "10.1.2.3"),
    ("aws:SourceIp", "192.0.2.7"),
    ("aws:PrincipalOrgID", "o-aaaaaaaaaa"),
    ("aws:PrincipalOrgID", "o-exampleorgid"),
    ("aws:CurrentTime", "2026-11-26T00:00:00Z"),
    ("aws:MultiFactorAuthPresent", "true"),
    ("kms:EncryptionContext:Dept", "IT"),
    ("kms:EncryptionContext:dept", "it"),
    ("kms:EncryptionContext:Project", "alpha"),
    ("kms:EncryptionContext:aws:s3:arn", "arn:aws:s3:::b/o"),
    (
        "kms:EncryptionContext:aws:cloudtrail:arn",
        "arn:aws:cloudtrail:us-east-2:111122223333:trail/my-trail",
    ),
)

EC = "kms:EncryptionContext:"
Descriptor = tuple[bool, str, str | None, str | None, str | None]


@dataclass(frozen=True)
class Caller:
    principal: str
    context: dict[str, Any] = field(default_factory=dict)
    federated_from: str | None = None
    # whose identity the brute force wrote: its administrators choose its tags too
    free_tags: bool = False


@dataclass(frozen=True)
class Allowed:
    caller: Caller
    action: str
    context: dict[str, Any]
    descriptors: frozenset[Descriptor]


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [k, *strings(v)]]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def _principal_values(doc: Any) -> Iterator[tuple[str, str]]:
    """(kind, value) of every Principal/NotPrincipal entry, grantee and retiring principal."""
    if isinstance(doc, list):
        for v in doc:
            yield from _principal_values(v)
        return
    if not isinstance(doc, dict):
        return
    for k, v in doc.items():
        if k in ("Principal", "NotPrincipal"):
            if isinstance(v, str):
                yield "AWS", v
            elif isinstance(v, dict):
                for kind, vals in v.items():
                    for val in [vals] if isinstance(vals, str) else vals:
                        yield kind, val
        elif k in ("GranteePrincipal", "RetiringPrincipal") and isinstance(v, str):
            yield ("AWS" if v.startswith("arn:") else "Service"), v
        elif k in ("GranteeServicePrincipal", "RetiringServicePrincipal") and isinstance(v, str):
            yield "Service", v
        else:
            yield from _principal_values(v)


@dataclass
class Names:
    """What a world document names: accounts, principals, services."""

    accounts: set[str]
    open: set[str]
    users: set[tuple[str, str]]  # (account, name)
    roles: dict[tuple[str, str], str]  # (account, name) -> a role ARN
    sessions: set[str]  # session ARNs named as such
    services: set[str]
    listed: set[str]  # the accounts' principals (ARNs)

    def named(self, account: str | None, kind: str, name: str) -> bool:
        if account is None:
            return False
        if kind == "user":
            return (account, name) in self.users
        return (account, name) in self.roles


def names_of(doc: dict[str, Any]) -> Names:
    accounts = set(doc.get("accounts", {}))
    for s in strings(doc):
        accounts.update(re.findall(r"(?<![0-9A-Za-z])[0-9]{12}(?![0-9])", s))
    listed = {arn for a in doc.get("accounts", {}).values() for arn in a.get("principals", {})}
    users: set[tuple[str, str]] = set()
    roles: dict[tuple[str, str], str] = {}
    sessions: set[str] = set()
    services: set[str] = set()
    values = list(_principal_values(doc)) + [("AWS", arn) for arn in listed]
    for kind, value in values:
        if kind == "Service" or (kind == "AWS" and "." in value and ":" not in value):
            if unique_id_kind(value) is None:
                services.add(value)
            continue
        if kind != "AWS" or value == "*" or unique_id_kind(value) is not None:
            continue
        c = parse_caller(value if value.startswith("arn:") else f"arn:aws:iam::{value}:root")
        if c.account is None:
            continue
        if c.kind == "user":
            users.add((c.account, c.name))
        elif c.kind == "role":
            roles.setdefault((c.account, c.name), value)
        elif c.kind == "assumed-role":
            roles.setdefault((c.account, c.name), f"arn:aws:iam::{c.account}:role/{c.name}")
            sessions.add(value)
    opened = {a for a in accounts if not doc.get("accounts", {}).get(a, {}).get("complete", False)}
    return Names(accounts, opened, users, roles, sessions, services, listed)


def _exists(names: Names, account: str, kind: str, name: str, arn: str) -> bool:
    """A complete account has only its root and the principals it lists."""
    if account in names.open or (kind == "role" and is_service_role(name)):
        return True
    return arn in names.listed


def _give(doc: dict[str, Any], arn: str, allow_all: bool = True) -> None:
    """An identity for `arn` in its (open) account: allow-all, as its administrators may."""
    acct = parse_caller(arn).account or ""
    principals = doc.setdefault("accounts", {}).setdefault(acct, {}).setdefault("principals", {})
    principals.setdefault(arn, {"policies": [ALLOW_ALL] if allow_all else []})


def callers(doc: dict[str, Any]) -> tuple[World, list[Caller], Names]:
    """The brute force's world (the document plus allow-all identities where nobody wrote
    one) and the callers to try."""
    names = names_of(doc)
    doc = copy.deepcopy(doc)
    out = [Caller(f"arn:aws:iam::{a}:root") for a in sorted(names.accounts)]
    for acct, name in sorted(names.users):
        arn = f"arn:aws:iam::{acct}:user/{name}"
        known = next((a for a in names.listed if a == arn), None)
        if not _exists(names, acct, "user", name, arn):
            continue
        if known is None:
            _give(doc, arn)
        out.append(Caller(arn, free_tags=known is None))
    for (acct, name), arn in sorted(names.roles.items()):
        if not _exists(names, acct, "role", name, arn):
            continue
        free = arn not in names.listed and not is_service_role(name)
        if free:
            _give(doc, arn)
        named = [s for s in names.sessions if f":assumed-role/{name}/" in s and acct in s]
        out += [Caller(s, free_tags=free) for s in sorted(named)]
        out.append(Caller(f"arn:aws:sts::{acct}:assumed-role/{name}/bf-session", free_tags=free))
    for acct in (*sorted(names.open), OUTSIDER):
        user, role = f"arn:aws:iam::{acct}:user/{FRESH}", f"arn:aws:iam::{acct}:role/{FRESH}"
        fed = f"arn:aws:iam::{acct}:user/{FRESH}-fed"
        for arn in (user, role, fed):
            _give(doc, arn)
        out.append(Caller(user, free_tags=True))
        out.append(Caller(f"arn:aws:sts::{acct}:assumed-role/{FRESH}/s", free_tags=True))
        fresh = f"arn:aws:sts::{acct}:federated-user/{FRESH}"
        out.append(Caller(fresh, federated_from=fed, free_tags=True))
    out.append(Caller(f"arn:aws:iam::{OUTSIDER}:root"))
    fresh_service = next(s for s in SERVICE_POOL if s not in names.services)
    for service in (*sorted(names.services), fresh_service):
        out.append(Caller(service))
        for acct in (*sorted(names.accounts), OUTSIDER):
            out.append(Caller(service, {"aws:SourceAccount": acct}))
    return load_world_json(doc), out, names


def _literals(doc: Any) -> Iterator[tuple[str, Any]]:
    """(key, value) of every condition of the document, a wildcard filled in."""
    if isinstance(doc, list):
        for v in doc:
            yield from _literals(v)
    elif isinstance(doc, dict):
        for k, v in doc.items():
            if k != "Condition" or not isinstance(v, dict):
                yield from _literals(v)
                continue
            for op, tests in v.items():
                for key, vals in tests.items():
                    for val in [vals] if isinstance(vals, str) else vals:
                        if "${" in val or op.startswith("Null"):
                            continue
                        val = val.replace("*", "bf").replace("?", "b")
                        yield key, [val] if op.startswith("For") else val


def contexts(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The empty context and every pair of pool values whose keys the world tests (the
    pool's and the world's own condition values)."""
    tested = {s.lower() for s in strings(doc)}
    text = " ".join(tested)  # a grant's constraint names an encryption-context key alone
    pool = [
        (k, v)
        for k, v in CONTEXT_POOL
        if k.lower() in tested or (k.startswith(EC) and k[len(EC) :].lower() in text)
    ]
    pool += [kv for kv in _literals(doc) if kv not in pool]
    out: list[dict[str, Any]] = [{}]
    for n in (1, 2):
        out += [
            dict(combo)
            for combo in itertools.combinations(pool, n)
            if len({k.lower() for k, _ in combo}) == n
        ]
    return out


def descriptors(principal: str, context: dict[str, Any], names: Names) -> frozenset[Descriptor]:
    """The classes a caller belongs to (a service may act for several accounts at once)."""
    c = parse_caller(principal)
    if c.is_service:
        named = principal in names.services
        acting = set()
        src = context.get("aws:SourceAccount")
        arn = context.get("aws:SourceArn")
        for a in (src, arn.split(":")[4] if arn and arn.count(":") >= 5 else None):
            if a in names.accounts:
                acting.add(a)
        if not named:  # a service nobody names is one class, whomever it acts for
            return frozenset({(False, "service", None, None, None)})
        return frozenset((True, "service", None, principal, a) for a in acting or {"*"})
    acct = c.account if c.account in names.accounts else None
    if c.kind == "root":
        return frozenset({(acct is not None, "root", acct, "root" if acct else None, None)})
    if c.kind == "user":
        named = names.named(acct, "user", c.name)
        return frozenset({(named, "user", acct, c.name if named else None, None)})
    if c.kind == "assumed-role":
        named = names.named(acct, "role", c.name)
        return frozenset({(named, "role", acct, c.name if named else None, None)})
    if c.kind == "federated-user":
        return frozenset({(False, "federated-user", acct, None, None)})
    raise AssertionError(f"not a caller: {principal}")


def descriptor_of_found(f: WhoFound) -> Descriptor:
    """A finding in the brute force's shape."""
    if f.type == "service":
        return (f.named, "service", None, f.principal if f.named else None, f.acting_for)
    name = None
    if f.named and f.principal:
        c = parse_caller(f.principal)
        name = "root" if c.kind == "root" else c.name
    return (f.named, f.type, f.account, name, None)


# What AWS never sends (kms-semantics R2.7, R5.3): a service calling as itself carries
# none of the keys that describe an IAM caller, and only a service acting for a
# resource carries aws:SourceArn / aws:SourceAccount.
IAM_ONLY = (
    "aws:principalarn",
    "aws:principalaccount",
    "kms:calleraccount",
    "aws:principalorgid",
    "aws:principaltype",
    "aws:username",
    "kms:viaservice",
)
SERVICE_ONLY = ("aws:sourcearn", "aws:sourceaccount")


def sendable(caller: Caller, action: str, key: str, ctx: dict[str, Any]) -> bool:
    """A request AWS could receive: `kmsprove validate --kind request` accepts it (the
    keys its action carries, values of the shapes AWS sends); a service calling as itself
    carries no key that describes an IAM caller, and principal tags come from the
    principal's identity, so only one whose identity nobody wrote may have any."""
    barred = SERVICE_ONLY if not parse_caller(caller.principal).is_service else IAM_ONLY
    tags = any(k.lower().startswith("aws:principaltag/") for k in ctx)
    if any(k.lower() in barred for k in ctx) or (tags and not caller.free_tags):
        return False
    doc = {"principal": caller.principal, "action": action, "key": key, "context": ctx}
    root = parse_json(json.dumps(doc))
    assert isinstance(root, JObject)
    req = Request(caller.principal, action, key=key, context=Context.of(ctx))
    return not any(d.is_error for d in check_request(req, root))


def allowed(world: World, caller: Caller, action: str, key: str, ctx: dict[str, Any]) -> bool:
    if not sendable(caller, action, key, {**ctx, **caller.context}):
        return False
    req = Request(
        caller.principal,
        action,
        key=key,
        context=Context.of({**ctx, **caller.context}),
        federated_from=caller.federated_from,
    )
    try:
        req = complete_request(world, req)
    except InputError:
        return False
    return evaluate(world, req).allowed


def brute_force(doc: dict[str, Any], actions: list[str], key: str) -> list[Allowed]:
    """Every caller the evaluator allows one of `actions` on `key`, with one context."""
    world, todo, names = callers(doc)
    pool = contexts(doc)
    out = []
    for caller in todo:
        hit = next(
            ((a, ctx) for a in actions for ctx in pool if allowed(world, caller, a, key, ctx)),
            None,
        )
        if hit is not None:
            ctx = {**hit[1], **caller.context}
            out.append(Allowed(caller, hit[0], ctx, descriptors(caller.principal, ctx, names)))
    return out

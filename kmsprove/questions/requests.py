"""A question's concrete requests: who it covers, whether a request meets its `where`,
the request a caller would send. Shared by `today` (a concrete "yes" tried before any
formula), `ever` (replayed routes) and `check` (example requests)."""

from __future__ import annotations

from kmsprove.arn import parse_caller
from kmsprove.ast import CondOp, Query, WhoKind
from kmsprove.catalog import derived_keys, required_keys, shape_examples
from kmsprove.evaluate.match import glob_like
from kmsprove.request import Context, Request
from kmsprove.solve.requests import some_grant_id
from kmsprove.world import Key, World


def as_caller(arn: str) -> str:
    """A role acts through a session; any other grantee calls as itself."""
    c = parse_caller(arn)
    return f"arn:aws:sts::{c.account}:assumed-role/{c.name}/example" if c.kind == "role" else arn


def covered(world: World, query: Query, principal: str) -> bool:
    """Whether a request by `principal` is one the question asks about."""
    who = query.who
    if who.iam_only and not principal.startswith("arn:"):
        return False  # a service principal, which `any iam principal` leaves out
    if who.kind in (WhoKind.ANYONE, WhoKind.ANY_PRINCIPAL):
        return True
    if who.kind is WhoKind.SERVICE:
        return principal == who.pattern
    if not principal.startswith("arn:"):
        return False
    acct = parse_caller(principal).account
    match who.kind:
        case WhoKind.OUTSIDE_ACCOUNTS:
            return acct not in who.accounts
        case WhoKind.IN_ACCOUNTS:
            return acct in who.accounts
        case WhoKind.OUTSIDE_ORG:
            return acct is None or world.account(acct).organization != who.org
        case WhoKind.PRINCIPAL:
            return glob_like(who.pattern or "", principal)
    return False


def conds_hold(query: Query, req: Request) -> bool:
    """Whether a concrete request meets the question's `where` conditions."""
    for c in query.conditions:
        vals = req.context.get(c.key)
        match c.op:
            case CondOp.HAS:
                ok = vals is not None
            case CondOp.NOT_HAS:
                ok = vals is None
            case CondOp.EQ:
                ok = vals is not None and c.value in vals
            case CondOp.NE:
                ok = vals is None or vals[0] != c.value
            case CondOp.LIKE:
                ok = vals is not None and any(glob_like(c.value or "", v) for v in vals)
            case CondOp.NOT_LIKE:
                ok = vals is not None and not glob_like(c.value or "", vals[0])
        if not ok:
            return False
    return True


# keys AWS sets besides the catalogue's derived ones: the tags it reads, and the
# resource a service acts for (absent from any other caller's request)
AWS_SET_PREFIXES = ("aws:principaltag/", "aws:resourcetag/")
SERVICE_SOURCE_PREFIXES = ("aws:sourcearn", "aws:sourceaccount", "aws:sourceorg")


def sendable(low: str, service: bool) -> bool:
    """Whether a caller's request may carry key `low` with a value of the caller's
    choosing: never a key AWS alone sets from the caller, the key or the request
    (R5.2, R5.3: aws:username, aws:PrincipalIsAWSService, principal tags...); the
    aws:Source* keys only for a service acting for some resource."""
    if low in derived_keys() or low.startswith(AWS_SET_PREFIXES):
        return False
    return service or not low.startswith(SERVICE_SOURCE_PREFIXES)


def final_request(query: Query, caller: str, action: str, key: Key, ec: dict[str, str]) -> Request:
    """The question's request by `caller`: the encryption context a grant needs, and the
    values the question's `where` pins, where the caller can send them (`sendable`: a
    pin AWS would not carry does not hold, and `conds_hold` says so)."""
    pairs: dict[str, str] = {f"kms:EncryptionContext:{k}": v for k, v in ec.items()}
    service = parse_caller(caller).is_service
    for c in query.conditions:
        if c.op is CondOp.EQ and c.value is not None and sendable(c.key.lower(), service):
            pairs[c.key] = c.value
    # an operation is never sent without its required parameters (CreateGrant's
    # grantee and operations): a value AWS could send, the replay then decides it
    given = {k.lower() for k in pairs}
    for name in required_keys(action):
        examples = shape_examples(name)
        if name.lower() not in given and examples:
            pairs[name] = examples[0]
    # nor is RevokeGrant sent without the grant it revokes
    grant_id = some_grant_id(key) if action == "kms:RevokeGrant" else None
    return Request(caller, action, key=key.arn, context=Context.of(pairs), grant_id=grant_id)

"""Counterexamples: a solver model -> a readable `Request`, and the world in which
the evaluator re-checks it (with the identity policy an unnamed caller's
administrators would have to write).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import types
from dataclasses import replace
from fractions import Fraction
from typing import Any

import z3

from kmsprove.arn import ALIAS_ARN, ALIAS_NAME, KEY_ID, NAMINGS, parse_caller, partition_of
from kmsprove.ast import PolicyKind
from kmsprove.encode.symbolic import CtxVar, Sym
from kmsprove.encode.text import text_of
from kmsprove.encode.universe import Universe
from kmsprove.errors import SourcePos
from kmsprove.inputs.documents import policy_from_value
from kmsprove.operators import parse_address, parse_date, parse_number
from kmsprove.request import Context, Request
from kmsprove.solve.requests import some_grant_id
from kmsprove.world import Account, Identity, Key, World


def _s(model: z3.ModelRef, term: z3.ExprRef) -> str:
    v = model.eval(term, model_completion=True)
    return text_of(v)


def _fraction(v: z3.ExprRef) -> Fraction:
    if z3.is_rational_value(v):
        return Fraction(v.numerator_as_long(), v.denominator_as_long())
    return Fraction(str(v))


def _typed_text(model: z3.ModelRef, var: CtxVar, i: int) -> str | None:
    """Element i's text when a typed view decides it, else None (the raw text stands).

    A key with a typed view is tested as text only for equality with literals
    (`kmsprove.encode.conditions`): a text equal to one of them already agrees with
    the typed value; any other text must parse to the typed value (or, when the
    solver chose an unparsable value, not parse at all) and differ from them.
    """
    text = _s(model, var.members()[i][1]) if i < len(var.members()) else ""
    literals = var.literals
    for kind in ("numeric", "date"):
        view = var.typed.get(f"{kind}.{i}")
        if view is None:
            continue
        if text in literals:
            return text
        if z3.is_true(model.eval(view[0], model_completion=True)):
            value = _fraction(model.eval(view[1], model_completion=True))
            return _avoiding(_renderings(kind, value), literals)
        return _unparsable(kind, text, literals)
    view = var.typed.get(f"ip.{i}")
    if view is not None and z3.is_true(model.eval(view[0], model_completion=True)):
        n = model.eval(view[2], model_completion=True).as_long()
        v6 = z3.is_true(model.eval(view[1], model_completion=True))
        return str(ipaddress.IPv6Address(n) if v6 else ipaddress.IPv4Address(n & 0xFFFFFFFF))
    if view is not None:
        return _unparsable("ip", text, literals)
    return None


def _decimal(value: Fraction) -> str | None:
    """Exact decimal notation of a fraction, or None when it has no finite expansion."""
    sign = "-" if value < 0 else ""
    value = abs(value)
    whole, rest = divmod(value.numerator, value.denominator)
    digits = ""
    for _ in range(30):
        if not rest:
            return f"{sign}{whole}" + (f".{digits}" if digits else "")
        rest *= 10
        digits += str(rest // value.denominator)
        rest %= value.denominator
    return None


def _renderings(kind: str, value: Fraction) -> list[str]:
    """Texts that parse to `value` (`kmsprove.operators`), the most readable first."""
    exact = _decimal(value) or str(float(value))
    if kind == "numeric":
        return [exact, exact + ".0" if "." not in exact else exact + "0", "+" + exact]
    out = []
    seconds, fraction = divmod(value, 1)
    try:
        when = dt.datetime.fromtimestamp(int(seconds), tz=dt.UTC)
        stamp = when.strftime("%Y-%m-%dT%H:%M:%S")
        tail = (_decimal(fraction) or "0")[1:] if fraction else ""
        out.append(f"{stamp}{tail}Z")
        out.append(f"{stamp}{tail}+00:00")
    except (OverflowError, OSError, ValueError):
        pass
    return [*out, exact]


def _avoiding(candidates: list[str], literals: set[str]) -> str:
    return next((c for c in candidates if c not in literals), candidates[-1] + "0")


def _unparsable(kind: str, text: str, literals: set[str]) -> str:
    """A text the parser of `kind` refuses, and no literal: the solver's own if it is one."""
    parse = {"numeric": parse_number, "date": parse_date, "ip": parse_address}[kind]
    for c in (text, f"not-a-{kind}", f"not-a-{kind}-value"):
        if c and parse(c) is None and c not in literals:
            return c
    return f"not-a-{kind}-{len(literals)}"


def _sent(model: z3.ModelRef, sym: Sym, key: Key, ctx: dict[str, Any]) -> str | None:
    """How the request names its key (None: by its key ARN)."""
    if sym.naming is None:
        return None
    naming = NAMINGS[model.eval(sym.naming, model_completion=True).as_long()]
    alias = ctx.get("kms:RequestAlias")
    name = alias if isinstance(alias, str) else (key.aliases[0] if key.aliases else None)
    if naming == KEY_ID:
        return key.key_id
    if naming == ALIAS_NAME and name:
        return name
    if naming == ALIAS_ARN and name:
        return f"arn:{partition_of(key.arn)}:kms:{key.region}:{key.account}:{name}"
    return None


def _grant_id(model: z3.ModelRef, sym: Sym, action: str, key: Key) -> str | None:
    """The grant a RetireGrant or RevokeGrant names, as the solver chose it. RevokeGrant
    is never sent without one, and which one does not change its authorization (the key
    policy and IAM decide, R4.7): a grant of the key, else the docs' example id."""
    if action not in ("kms:RetireGrant", "kms:RevokeGrant") or sym.grant_id is None:
        return None
    chosen = _s(model, sym.grant_id)
    if chosen or action == "kms:RetireGrant":
        return chosen or None
    return some_grant_id(key)


def decode(
    model: z3.ModelRef, sym: Sym, u: Universe, key: Key, resource: z3.SeqRef | None = None
) -> tuple[Request, dict[str, str]]:
    """The model as a readable request, and the IAM policies assumed for unnamed callers."""
    pid = model.eval(sym.pid, model_completion=True).as_long()
    e = next(x for x in u.entries if x.index == pid)
    acct = _s(model, sym.acct)
    name = e.name if e.name else _s(model, sym.name)
    session = _s(model, sym.session)
    federated_from = None
    if e.kind == "service":
        principal = name
    elif e.kind == "root":
        principal = f"arn:aws:iam::{acct}:root"
    elif e.kind == "user":
        principal = e.arn if e.arn else f"arn:aws:iam::{acct}:user/{name}"
    elif e.kind == "session":
        principal = f"arn:aws:sts::{acct}:assumed-role/{name}/{session}"
    else:
        principal = f"arn:aws:sts::{acct}:federated-user/{session}"
        federated_from = e.arn or f"arn:aws:iam::{acct}:user/{name}"
    action = sym.actions[model.eval(sym.action, model_completion=True).as_long()].name
    ctx: dict[str, str | list[str]] = {}
    for low, var in sym.ctx.items():
        if not z3.is_true(model.eval(var.present, model_completion=True)):
            continue
        display = _DISPLAY.get(low) or (var.display if var.display != low else _display(low))
        if var.multi:
            n = model.eval(var.count, model_completion=True).as_long()
            ctx[display] = [_typed_text(model, var, i) or _s(model, var.elems[i]) for i in range(n)]
        else:
            ctx[display] = _typed_text(model, var, 0) or _s(model, var.value)
    if resource is not None:
        obj = _s(model, resource)
        req = Request(
            principal, action, resource=obj, context=Context.of(ctx), federated_from=federated_from
        )
    else:
        req = Request(
            principal,
            action,
            key=key.arn,
            context=Context.of(ctx),
            federated_from=federated_from,
            key_id_as_sent=_sent(model, sym, key, ctx),
            grant_id=_grant_id(model, sym, action, key),
        )
    witness: dict[str, str] = {}
    if not e.any_iam:
        return req, witness
    # the identity that holds the assumed policy: the user behind a federated
    # session, a role (with the path a policy gave it), or the caller itself
    if e.kind == "federated":
        who = federated_from or principal
    elif e.kind == "session":
        who = e.arn or f"arn:aws:iam::{acct}:role/{name}"
    else:
        who = e.arn or principal
    on = (
        f"{action} on {req.resource} and the KMS calls S3 makes on {key.arn}"
        if resource is not None
        else f"{action} on {key.arn}"
    )
    # an unnamed caller's identity policy allows the request, unless the question left
    # that open (`Sym.open_iam`) and the model says it does not: then it holds none,
    # which a world that does not list it says too, unless the role has a path (a
    # session's aws:PrincipalArn is its role's ARN: the world has to list the role)
    if sym.open_iam is None or z3.is_true(model.eval(sym.open_iam, model_completion=True)):
        witness[who] = (
            f"an identity policy allowing {on} (the account is open: its administrators may write one)"
        )
    elif e.kind == "session" and e.arn is not None and e.arn.split(":", 5)[-1].count("/") > 1:
        witness[who] = f"{HOLDS_NONE} {on} (its account is open; listed for its path)"
    return req, witness


# what `decode` says of an unnamed role that holds no identity policy allowing the request
HOLDS_NONE = "no identity policy allowing"


_DISPLAY = {
    "aws:principalarn": "aws:PrincipalArn",
    "aws:principalaccount": "aws:PrincipalAccount",
    "kms:calleraccount": "kms:CallerAccount",
    "aws:principalorgid": "aws:PrincipalOrgID",
    "aws:principalisawsservice": "aws:PrincipalIsAWSService",
    "aws:principaltype": "aws:PrincipalType",
    "aws:securetransport": "aws:SecureTransport",
    "aws:viaawsservice": "aws:ViaAWSService",
    "kms:viaservice": "kms:ViaService",
    "aws:sourceip": "aws:SourceIp",
    "aws:sourcearn": "aws:SourceArn",
    "aws:sourceaccount": "aws:SourceAccount",
    "kms:grantoperations": "kms:GrantOperations",
    "kms:encryptioncontextkeys": "kms:EncryptionContextKeys",
    "kms:keyspec": "kms:KeySpec",
    "kms:keyusage": "kms:KeyUsage",
    "kms:keyorigin": "kms:KeyOrigin",
    "kms:multiregion": "kms:MultiRegion",
    "aws:requestedregion": "aws:RequestedRegion",
    "kms:resourcealiases": "kms:ResourceAliases",
    "aws:principalservicename": "aws:PrincipalServiceName",
    "aws:username": "aws:username",
    "kms:requestalias": "kms:RequestAlias",
    "kms:granteeprincipal": "kms:GranteePrincipal",
    "kms:grantisforawsresource": "kms:GrantIsForAWSResource",
    "aws:calledvia": "aws:CalledVia",
}


def _display(low: str) -> str:
    if low in _DISPLAY:
        return _DISPLAY[low]
    if low.startswith("kms:encryptioncontext:"):
        return "kms:EncryptionContext:" + low.split(":", 2)[2]
    if low.startswith("aws:principaltag/"):
        return "aws:PrincipalTag/" + low.split("/", 1)[1]
    return low


def witness_document(req: Request) -> dict[str, Any]:
    """The identity policy assumed for an unnamed caller of an open account."""
    statements = [
        {
            "Sid": "AssumedByKmsprove",
            "Effect": "Allow",
            "Action": req.action,
            "Resource": req.key or req.resource or "*",
        }
    ]
    if req.resource is not None:  # an S3 read also needs the KMS calls S3 makes for it
        statements.append(
            {"Sid": "AssumedByKmsproveKms", "Effect": "Allow", "Action": "kms:*", "Resource": "*"}
        )
    return {"Version": "2012-10-17", "Statement": statements}


def witness_world(world: World, req: Request, witness: dict[str, str]) -> World:
    """The world plus the identity policy assumed for an unnamed caller of an open account."""
    if not witness:
        return world
    arn, text = next(iter(witness.items()))
    c = parse_caller(arn)
    if c.account is None:
        return world
    policy = policy_from_value(
        witness_document(req), PolicyKind.IDENTITY, "<assumed>", "<assumed identity policy>"
    )
    policies = () if text.startswith(HOLDS_NONE) else (policy,)
    tags = tuple(
        (k.split("/", 1)[1], v[0])
        for k, v in ((req.context.names[low], vals) for low, vals in req.context.values.items())
        if k.lower().startswith("aws:principaltag/")
    )
    acct = world.accounts.get(c.account) or Account(c.account)
    principals = dict(acct.principals)
    principals[arn] = Identity(
        arn=arn, policies=policies, tags=tags, pos=SourcePos("<assumed identity policy>")
    )

    accounts = dict(world.accounts)
    accounts[c.account] = replace(acct, principals=types.MappingProxyType(principals))
    return replace(world, accounts=types.MappingProxyType(accounts))

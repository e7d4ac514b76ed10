"""What ties a symbolic request together: the caller's names and account, the
context keys AWS derives, and which keys an action can carry (R5).

`free_facts` is the free mode (the solver picks any real request); `fix_request`
pins every symbol to a concrete `Request` (differential tests). Twin of
`kmsprove.evaluate.context.derived_context` plus `complete_request`'s open keys.
"""

from __future__ import annotations

import z3

from kmsprove.arn import ALIAS_ARN, ALIAS_NAME, parse_caller
from kmsprove.catalog import (
    ActionInfo,
    any_action_keys,
    takes_alias,
)
from kmsprove.encode.match import ANY, ANY_RUN, glob_re
from kmsprove.encode.names import DIGITS12, NAME_RE, SESSION_RE, endpoint, fresh_service
from kmsprove.encode.shapes import required_facts
from kmsprove.encode.symbolic import Sym, fast_and, fast_eq, fast_not, naming_is
from kmsprove.encode.text import lit
from kmsprove.encode.universe import FRESH, Entry, Universe
from kmsprove.request import EC_PREFIX, Request
from kmsprove.world import Key


def _supplies(info: ActionInfo, low: str) -> bool:
    for k in info.condition_keys:
        kl = k.lower()
        if kl == low or (kl.endswith("*") and low.startswith(kl[:-1])):
            return True
    return False


def _arn(e: Entry, u: Universe, sym: Sym) -> z3.SeqRef:
    """aws:PrincipalArn of the entry (R5.3): a session's is its role's ARN."""
    if e.arn is not None and e.kind in ("user", "session", "root"):
        return lit(e.arn)
    acct = sym.acct
    if e.kind == "user":
        return z3.Concat(lit("arn:aws:iam::"), acct, lit(":user/"), sym.name)
    if e.kind == "session":
        return z3.Concat(lit("arn:aws:iam::"), acct, lit(":role/"), sym.name)
    if e.kind == "federated":
        return z3.Concat(lit("arn:aws:sts::"), acct, lit(":federated-user/"), sym.session)
    if e.kind == "root":
        return z3.Concat(lit("arn:aws:iam::"), acct, lit(":root"))
    return lit(e.arn or "")


def _set(sym: Sym, low: str, present: z3.BoolRef | bool, value: z3.SeqRef | str) -> z3.BoolRef:
    var = sym.key(low)
    v = lit(value) if isinstance(value, str) else value
    if present is True:  # the usual case, in fewer terms (this runs per entry per query)
        if var.multi:
            return fast_and(var.present, var.count == 1, fast_eq(var.elems[0], v))
        return fast_and(var.present, fast_eq(var.value, v))
    present = z3.BoolVal(present) if isinstance(present, bool) else present
    if var.multi:
        return z3.And(
            var.present == present, z3.Implies(present, z3.And(var.count == 1, var.elems[0] == v))
        )
    return z3.And(var.present == present, z3.Implies(present, var.value == v))


def entry_facts(e: Entry, u: Universe, sym: Sym) -> list[z3.BoolRef]:
    """What holds when the caller is entry `e`."""
    world = u.world
    out: list[z3.BoolRef] = []
    acct = (
        None
        if e.account is None
        else (sym.fresh_account if e.account == FRESH else lit(u.accounts[e.account]))
    )
    service = e.kind == "service"
    out.append(sym.acct == (acct if acct is not None else lit("")))
    if service:
        name = lit(e.name) if e.name else sym.name
        if e.name is None:
            named = set(u.named_like(e))
            out.append(fresh_service(sym.name, named))
        # aws:SourceAccount / aws:SourceArn agree: added lazily (encode.shapes)
        out += [
            _set(sym, "aws:principalisawsservice", True, "true"),
            _set(sym, "aws:principalservicename", True, name),
        ]
        for k in (
            "aws:principalarn",
            "aws:principalaccount",
            "kms:calleraccount",
            "aws:principalorgid",
            "aws:principaltype",
            "aws:username",
            "kms:viaservice",
        ):
            out.append(fast_not(sym.key(k).present))
        # a service principal carries no principal tags (the evaluator's twin derives none)
        out += [
            fast_not(v.present) for n, v in sym.ctx.items() if n.startswith("aws:principaltag/")
        ]
        return out
    if e.fresh and e.kind != "root":
        same = u.named_like(e)
        out.append(z3.InRe(sym.name, NAME_RE))
        out += [sym.name != lit(n) for n in same]
    arn = _arn(e, u, sym)
    out += [
        _set(sym, "aws:principalarn", True, arn),
        _set(sym, "aws:principalaccount", True, acct),
        _set(sym, "aws:principalisawsservice", True, "false"),
        _set(
            sym,
            "aws:principaltype",
            True,
            {
                "root": "Account",
                "user": "User",
                "session": "AssumedRole",
                "federated": "FederatedUser",
            }[e.kind],
        ),
        fast_not(sym.key("aws:principalservicename").present),
        fast_not(sym.key("aws:sourcearn").present),
        fast_not(sym.key("aws:sourceaccount").present),
    ]
    if e.kind == "user":
        out.append(_set(sym, "aws:username", True, lit(e.name) if e.name else sym.name))
    else:
        out.append(fast_not(sym.key("aws:username").present))
    acct_id = None if e.account in (None, FRESH) else u.accounts[e.account]
    org = world.account(acct_id).organization if acct_id else None
    if org:
        out.append(_set(sym, "aws:principalorgid", True, org))
    if e.identity is not None and not e.any_iam:
        tags = dict(e.identity.tags)
        for name in list(sym.ctx):
            if name.startswith("aws:principaltag/"):
                t = next((k for k in tags if k.lower() == name.split("/", 1)[1]), None)
                out.append(_set(sym, name, z3.BoolVal(t is not None), tags.get(t, "") if t else ""))
    elif e.kind == "root":
        out += [z3.Not(v.present) for n, v in sym.ctx.items() if n.startswith("aws:principaltag/")]
    return out


def key_facts(key: Key, sym: Sym) -> list[z3.BoolRef]:
    """Key properties every key operation carries (R5.2)."""
    out = [
        _set(sym, "kms:keyspec", True, key.key_spec),
        _set(sym, "kms:keyusage", True, key.key_usage),
        _set(sym, "kms:keyorigin", True, key.origin),
        _set(sym, "kms:multiregion", True, "true" if key.multi_region else "false"),
        _set(sym, "aws:requestedregion", True, key.region),
        _set(sym, "aws:securetransport", True, "true"),
    ]
    mrk = sym.key("kms:multiregionkeytype")
    if key.multi_region and key.multi_region_key_type:
        out.append(_set(sym, "kms:multiregionkeytype", True, key.multi_region_key_type))
    else:
        out.append(z3.Not(mrk.present))
    aliases = sym.key("kms:resourcealiases")
    n = min(len(key.aliases), sym.set_bound)
    out.append(aliases.present == bool(key.aliases))
    out.append(aliases.count == n)
    out += [aliases.elems[i] == lit(a) for i, a in enumerate(key.aliases[:n])]
    tags = dict(key.tags)
    for name in list(sym.ctx):
        if name.startswith("aws:resourcetag/") and not sym.free_resource_tags:
            t = next((k for k in tags if k.lower() == name.split("/", 1)[1]), None)
            out.append(_set(sym, name, z3.BoolVal(t is not None), tags.get(t, "") if t else ""))
    # kms:RequestAlias is the alias the request named the key by (R5.2), on the
    # operations that take an alias
    alias = sym.key("kms:requestalias")
    by_alias = naming_is(sym, ALIAS_ARN, ALIAS_NAME)
    takes = sym.is_action({a.name for a in sym.actions if takes_alias(a)})
    out.append(z3.Implies(alias.present, by_alias))
    out.append(z3.Implies(z3.And(by_alias, takes), alias.present))
    if key.aliases:
        out.append(z3.Implies(alias.present, z3.Or(*[alias.value == lit(a) for a in key.aliases])))
    else:
        out.append(z3.Not(by_alias))  # a key without aliases is named by ARN or key ID
    return out


def action_facts(sym: Sym, u: Universe) -> list[z3.BoolRef]:
    """A key is present only on actions that supply it (R5.1); EC keys and the EC key set agree."""
    out: list[z3.BoolRef] = []
    fixed_elsewhere = (
        "aws:principal",
        "aws:username",
        "aws:securetransport",
        "aws:viaawsservice",
        "kms:calleraccount",
    )
    for low, var in sym.ctx.items():
        if (
            low.startswith(fixed_elsewhere)
            or low in any_action_keys()
            or low.startswith(("aws:source", "aws:calledvia"))
        ):
            continue
        ok = [i for i, a in enumerate(sym.actions) if _supplies(a, low)]
        if len(ok) < len(sym.actions):
            out.append(
                z3.Implies(
                    var.present, z3.Or(*[sym.action == i for i in ok]) if ok else z3.BoolVal(False)
                )
            )
    via = sym.key("kms:viaservice")
    # SERVICE.REGION.amazonaws.com (R5.2): a real service and Region, or one a document names
    out.append(z3.Implies(via.present, endpoint(via.value, u, sym.prefix)))
    out.append(
        _set(
            sym,
            "aws:viaawsservice",
            True,
            z3.If(via.present, lit("true"), lit("false")),
        )
    )
    out.append(
        _set(
            sym,
            "kms:calleraccount",
            z3.Not(sym.key("aws:principalisawsservice").value == lit("true")),
            sym.acct,
        )
    )
    called = sym.key("aws:calledvia")
    out.append(z3.Implies(z3.Not(via.present), z3.Not(called.present)))
    ec_keys = sym.key("kms:encryptioncontextkeys")
    groups = [low[len(EC_PREFIX) :] for low in sym.ctx if low.startswith(EC_PREFIX)]
    for g in groups:
        var = sym.ctx[EC_PREFIX + g]
        same = glob_re(g, ignore_case=True, literal=True)
        out.append(
            var.present == z3.Or(*[z3.And(a, z3.InRe(e, same)) for a, e in ec_keys.members()])
        )
    out.append(ec_keys.present == (ec_keys.count > 0))  # type: ignore[operator]
    for i, (a, e) in enumerate(ec_keys.members()):
        out.append(z3.Implies(a, z3.InRe(e, z3.Concat(ANY, ANY_RUN))))
        del i
    return out


def open_keys(sym: Sym) -> None:
    """Keys the documentation leaves open (10.15, 10.22): decided per effect."""
    via = sym.key("kms:viaservice")
    grant_calls = sym.is_action({"kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"})
    sym.open_keys["kms:grantisforawsresource"] = (
        z3.And(grant_calls, z3.Not(via.present)),
        (None, ("false",)),
    )
    # aws:CalledVia on a forwarded call: absent, or the forwarding service (10.15)
    v = via.value
    service = z3.Concat(z3.SubString(v, 0, z3.IndexOf(v, lit("."), 0)), lit(".amazonaws.com"))
    sym.open_keys.setdefault("aws:calledvia", (via.present, (None, (service,))))


def free_facts(u: Universe, key: Key | None, sym: Sym) -> list[z3.BoolRef]:
    """The free mode's facts; `key` None for a request on no key (an S3 object)."""
    out = required_facts(sym)  # first: the keys it adds get the facts below
    out += sym.facts
    out.append(z3.Or(*[sym.pid == e.index for e in u.entries]))
    out.append(z3.InRe(sym.fresh_account, DIGITS12))
    out += [sym.fresh_account != lit(a) for a in u.accounts]
    # a role session's name (RoleSessionName) and a federated user's (GetFederationToken's
    # Name) are at least 2 characters: a 1-character one is no request AWS receives
    out.append(z3.InRe(sym.session, SESSION_RE))
    for e in u.entries:
        out.append(z3.Implies(sym.pid == e.index, fast_and(*entry_facts(e, u, sym))))
    if key is not None:
        out += key_facts(key, sym)
    out += action_facts(sym, u)
    return out  # the value shapes are added lazily (solve.session, encode.shapes)


def fix_request(u: Universe, key: Key, sym: Sym, req: Request) -> list[z3.BoolRef]:
    """Pin every symbol to `req` (its context as completed by evaluate.context.complete_request)."""
    caller = parse_caller(req.principal)
    entry = match_entry(u, req)
    if entry is None:
        return [z3.BoolVal(False)]
    out = [sym.pid == entry.index]
    acct = caller.account or ""
    out.append(sym.acct == lit(acct))
    if entry.account == FRESH:
        out.append(sym.fresh_account == lit(acct))
    name = caller.name if caller.kind != "federated-user" else ""
    out.append(sym.name == lit(name or ""))
    out.append(
        sym.session
        == lit(
            caller.session
            if caller.kind == "assumed-role"
            else caller.name
            if caller.kind == "federated-user"
            else ""
        )
    )
    idx = [i for i, a in enumerate(sym.actions) if a.name == req.action]
    out.append(sym.action == (idx[0] if idx else -1))
    return out


def match_entry(u: Universe, req: Request) -> Entry | None:
    """The universe entry a concrete caller falls in."""
    c = parse_caller(req.principal)
    for e in u.entries:
        if e.kind == "service" and c.kind == "service" and e.name == c.arn:
            return e
    acct_index = u.accounts.index(c.account) if c.account in u.accounts else FRESH
    kind = {
        "user": "user",
        "assumed-role": "session",
        "federated-user": "federated",
        "root": "root",
        "service": "service",
    }.get(c.kind)
    if kind is None:
        return None
    fallback = None
    for e in u.entries:
        if e.kind != kind or (kind != "service" and e.account != acct_index):
            continue
        if kind == "federated":
            if e.arn is not None and e.arn == req.federated_from:
                return e
            if e.arn is None and fallback is None:
                fallback = e
            continue
        if e.name == (c.name if kind != "root" else "root") or (
            kind == "root" and e.account == FRESH
        ):
            return e
        if e.name is None and fallback is None:
            fallback = e
    return fallback

"""Diff stage, identity policies: OLD and NEW attached to the same principals and
compared on every KMS request those principals can make.

Who holds the policy: every IAM user, role session and federated user of every
account (the unnamed classes of `kmsprove/encode/universe.py`: one per account
the policies mention, plus one fresh account), each with the policy as its only
identity policy and with free names, tags and organization, so conditions on
the caller (aws:PrincipalArn, kms:CallerAccount, aws:PrincipalTag/...) are
decided by the solver over all callers, not over one example role. Readable
witnesses prefer `arn:aws:sts::111122223333:assumed-role/Subject/example`.

On which keys (in partition `aws`, the callers'): the outcome on a key depends on
its ARN only through which `Resource`/`NotResource` patterns match it, which
account it is in (the caller's own, or another), and its Region
(aws:RequestedRegion). So `resource_classes` enumerates, with Z3, one key ARN
per realisable combination of those tests ("classes"; ARNs built from the
patterns' literal fields first): that includes a fresh key in the subject's
account and one in another account. Each key gets a key policy that lets IAM
decide: the key's account is delegated (`Principal` its root), and every other
account is allowed (`Principal: *` with `kms:CallerAccount` not the key's
account), so for same-account and cross-account callers alike the identity
policy is what differs. Keys have default properties (symmetric, no aliases,
no tags): if a policy tests a key property, a "no difference" is only about
such keys and becomes unknown.

Requests on no key (CreateKey, ListKeys, GenerateRandom...) and the alias
half of alias operations (CreateAlias on `arn:aws:kms:...:alias/NAME`,
enumerated like keys) are decided by IAM alone (R3.1), encoded here as the
identity layer's allow and no deny; the evaluator's twin is its IAM-only path.
That path reads a federated user's documents from the caller ARN, so these
requests are compared for IAM users and role sessions only.
"""

from __future__ import annotations

import itertools
import re
import types
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial

import z3

from kmsprove.arn import ACCOUNT_RE, REGION_RE, parse_caller
from kmsprove.ast import Policy, PolicyKind, Query
from kmsprove.catalog import ActionInfo, kms_catalog
from kmsprove.encode.authorize import encode_allowed, tagging_allowed
from kmsprove.encode.derive import free_facts, open_keys
from kmsprove.encode.errors import Unmodelled
from kmsprove.encode.layers import Target, layer
from kmsprove.encode.match import glob_re, py_arn_like, py_glob
from kmsprove.encode.names import DIGITS12
from kmsprove.encode.question import who_formula
from kmsprove.encode.static import may_match, u_accounts
from kmsprove.encode.symbolic import Sym, new_sym
from kmsprove.encode.text import lit, lit_re, text_of
from kmsprove.encode.universe import Universe, build_universe, mentioned, mentions, restrict
from kmsprove.inputs.documents import policy_from_value
from kmsprove.questions.diff.pair import Pair, Probe, Witness, entry_cases, readable
from kmsprove.request import Request
from kmsprove.solve.bounds import bound_exceeded, set_bound_for
from kmsprove.solve.decode import decode
from kmsprove.solve.recheck import side_check
from kmsprove.solve.session import Session, Unknown, Unsat, deadline_in
from kmsprove.world import Account, Identity, Key, World

SUBJECT_ACCOUNT = "111122223333"
SUBJECT_NAME = "Subject"
FIXED = ("arn", "aws", "kms")  # the first ARN fields of every key and alias compared
READABLE_REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2")
READABLE_ACCOUNTS = (SUBJECT_ACCOUNT, "999999999999", "444455556666")
READABLE_IDS = {
    "key": ("1234abcd-12ab-34cd-56ef-1234567890ab", "0987dcba-09fe-87dc-65ba-ab0987654321"),
    "alias": ("example", "other"),
}
MAX_CLASSES = 32
FIELD_TIMEOUT = 5.0  # seconds per enumerated field value
KEY_PROPERTY_TESTS = (
    "kms:keyspec",
    "kms:keyusage",
    "kms:keyorigin",
    "kms:multiregion",  # and kms:MultiRegionKeyType
    "kms:resourcealiases",
    "kms:requestalias",
)  # not aws:ResourceTag: the keys' tags are free (`Sym.free_resource_tags`)
_NAME = z3.Union(z3.Range("a", "z"), z3.Range("A", "Z"), z3.Range("0", "9"), lit_re("-"))
ID_RE = {
    "key": z3.Plus(_NAME),
    "alias": z3.Plus(z3.Union(_NAME, lit_re("/"), lit_re("_"))),
}
REGION = z3.Concat(
    z3.Loop(z3.Range("a", "z"), 2, 2),
    z3.Plus(z3.Concat(lit_re("-"), z3.Plus(z3.Range("a", "z")))),
    lit_re("-"),
    z3.Range("0", "9"),
)


def resource_classes(
    patterns: list[str], kind: str, accounts: list[str], regions: list[str]
) -> list[str]:
    """One `arn:aws:kms:REGION:ACCOUNT:KIND/ID` per combination of the tests (each
    pattern matches or not, the account is each of `accounts` or none, the Region
    meets each tested value or not) that some ARN realises; readable ARNs first.

    A pattern tests each ARN field on its own (R6.3), so each field's classes are
    enumerated alone (one string variable each, which Z3 decides quickly), and
    every combination whose tests differ from an earlier one's is kept."""
    live = [f for f in (p.split(":", 5) for p in sorted(set(patterns)) if p != "*") if len(f) == 6]
    live = [f for f in live if all(py_glob(f[i], v, False) for i, v in enumerate(FIXED))]
    requested = [(v, c) for v in regions for c in (False, True)]  # aws:RequestedRegion tests
    region_tests = [(f[3], False) for f in live] + requested
    region_values = _field_classes(
        REGION,
        lambda x: [z3.InRe(x, glob_re(g, ignore_case=c)) for g, c in region_tests],
        [*_literal(patterns, 3), *READABLE_REGIONS],
    )
    account_values = _field_classes(
        DIGITS12,
        lambda x: [z3.InRe(x, glob_re(f[4])) for f in live] + [x == lit(a) for a in accounts],
        [*_literal(patterns, 4), *READABLE_ACCOUNTS],
    )
    head = lit(f"{kind}/")
    id_values = _field_classes(
        ID_RE[kind],
        lambda x: [z3.InRe(z3.Concat(head, x), glob_re(f[5])) for f in live],
        [*_literal(patterns, 5, kind), *READABLE_IDS[kind]],
    )
    out: dict[tuple[bool, ...], str] = {}
    for r, a, i in itertools.product(region_values, account_values, id_values):
        arn = f"arn:aws:kms:{r}:{a}:{kind}/{i}"
        seen = tuple(py_arn_like(":".join(f), arn) for f in live)
        seen += tuple(a == x for x in accounts)
        seen += tuple(py_glob(g, r, c) for g, c in requested)
        out.setdefault(seen, arn)
    if len(out) > MAX_CLASSES:
        raise Unmodelled(f"the policies tell apart more than {MAX_CLASSES} {kind} ARN classes")
    return list(out.values())


def _field_classes(
    shape: z3.ReRef, tests: Callable[[z3.SeqRef], list[z3.BoolRef]], readable: list[str]
) -> list[str]:
    """One value of an ARN field per combination of the tests that some value meets."""
    var = z3.String("arn.field")
    session = Session([z3.InRe(var, shape)])
    checks = tests(var)
    tiers = [[var == lit(v)] for v in dict.fromkeys(readable)]
    out: list[str] = []
    while True:
        result = session.ask(tiers=tiers, deadline=deadline_in(FIELD_TIMEOUT), first_try=1.0)
        if isinstance(result, Unsat):
            return out
        if isinstance(result, Unknown):
            raise Unmodelled(f"could not enumerate resource classes: {result.reason}")
        model = result.model
        if len(out) == MAX_CLASSES:
            raise Unmodelled(f"the policies tell apart more than {MAX_CLASSES} ARN field values")
        out.append(text_of(model.eval(var, model_completion=True)))
        if not checks:
            return out
        seen = [z3.is_true(model.eval(t, model_completion=True)) for t in checks]
        session.add(z3.Or(*[z3.Not(t) if v else t for t, v in zip(checks, seen, strict=True)]))


def _literal(patterns: list[str], index: int, kind: str = "") -> list[str]:
    """Field `index` of the patterns where it has no wildcard (3: the Region, 5: the
    id after `KIND/`), for readable class representatives."""
    out: list[str] = []
    valid = {3: REGION_RE, 4: ACCOUNT_RE, 5: re.compile(r"[A-Za-z0-9/_-]+")}[index]
    for p in patterns:
        fields = p.split(":", 5)
        if len(fields) != 6:
            continue
        f = fields[index]
        if index == 5:
            if not f.startswith(f"{kind}/"):
                continue
            f = f.split("/", 1)[1]
        if "*" not in f and "?" not in f and valid.fullmatch(f) and f not in out:
            out.append(f)
    return out


def _patterns(policies: tuple[Policy, ...]) -> list[str]:
    return [
        r
        for p in policies
        for st in p.statements
        for r in (st.resource or ()) + (st.not_resource or ())
    ]


def _tested_values(policies: tuple[Policy, ...], key: str) -> list[str]:
    return [
        v
        for p in policies
        for st in p.statements
        for c in st.conditions
        if c.key.lower() == key
        for v in c.values
    ]


def iam_decides(arn: str) -> Policy:
    """A key policy under which the caller's IAM policies decide, in the key's
    account (delegation to the account) and from every other account alike."""
    acct = arn.split(":")[4]
    doc = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "IamDecidesInTheKeyAccount",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{acct}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "IamDecidesInOtherAccounts",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "kms:*",
                "Resource": "*",
                "Condition": {"StringNotEquals": {"kms:CallerAccount": acct}},
            },
        ],
    }
    return policy_from_value(doc, PolicyKind.KEY_POLICY, "<key policy: IAM decides>")


def identity_probes(old: Policy, new: Policy, query: Query) -> list[Probe]:
    """The comparisons to make: keys, alias classes, requests on no key."""
    both = (old, new)
    holder = World(
        accounts=types.MappingProxyType({SUBJECT_ACCOUNT: Account(SUBJECT_ACCOUNT, scps=both)})
    )
    accounts = sorted(mentioned(holder, query)[0])
    patterns = _patterns(both)
    regions = _tested_values(both, "aws:requestedregion")
    keys = [Key(a, iam_decides(a)) for a in resource_classes(patterns, "key", accounts, regions)]
    aliases = resource_classes(patterns, "alias", accounts, [])
    base = World(keys=tuple(keys), file="<diff>")
    holder = replace(holder, keys=base.keys)
    u = build_universe(holder, keys[0], query)
    restrict(u, lambda e: e.kind in ("user", "session", "federated"))
    restrict(u, lambda e: may_match(query, u_accounts(e, u)))
    u.world = base
    iam_u = replace(
        u,
        world=base,
        key=None,
        entries=[e for e in u.entries if e.kind != "federated"],
        by_account={},
        by_name={},
        by_kind={},
    )
    bound = set_bound_for(holder)
    tested = [k for k in KEY_PROPERTY_TESTS if mentions(both, k)]
    caveat = bound_exceeded(holder) or (
        f"the policies test {', '.join(tested)}, and diff compares on keys with default "
        "properties (symmetric, no aliases, no tags) only"
        if tested
        else None
    )
    catalog = list(kms_catalog().values())
    on_key = [i for i in catalog if i.on_key]
    alias_ops = [i for i in catalog if i.resource == "alias+key"]
    no_key = [i for i in catalog if not i.on_key]
    ctx = _Ctx(base, both, query, bound, caveat)
    probes = [Probe(k.arn, partial(_key_pair, ctx, u, k, on_key)) for k in keys]
    probes += [Probe(a, partial(_iam_pair, ctx, iam_u, a, alias_ops)) for a in aliases]
    probes.append(Probe("requests on no key", partial(_iam_pair, ctx, iam_u, "*", no_key)))
    return probes


@dataclass(frozen=True)
class _Ctx:
    """What every comparison of one identity-policy diff shares."""

    base: World  # the keys, each with a key policy that lets IAM decide
    policies: tuple[Policy, Policy]  # OLD, NEW
    query: Query  # its `who` restricts the callers
    bound: int  # the set bound both sides need
    caveat: str | None


def _holding(u: Universe, policy: Policy) -> Universe:
    """The universe's callers, each holding `policy` as its identity policy."""
    ident = Identity(arn=f"arn:aws:iam::{SUBJECT_ACCOUNT}:role/{SUBJECT_NAME}", policies=(policy,))
    entries = [replace(e, identity=ident, any_iam=False) for e in u.entries]
    return replace(u, entries=entries, by_account={}, by_name={}, by_kind={})


def _tiers(sym: Sym, u: Universe) -> list[list[z3.BoolRef]]:
    subject = [
        sym.acct == lit(SUBJECT_ACCOUNT),
        sym.name == lit(SUBJECT_NAME),
        sym.session == lit("example"),
    ]
    return readable(sym, u, (), subject)


def _key_pair(ctx: _Ctx, u: Universe, key: Key, infos: list[ActionInfo]) -> Pair:
    old, new = ctx.policies
    sym = new_sym(infos, set_bound=ctx.bound)
    sym.free_resource_tags = True  # any key of the class: whatever tags it carries
    open_keys(sym)
    allowed_o = encode_allowed(ctx.base, key, _holding(u, old), sym)
    allowed_n = encode_allowed(ctx.base, key, _holding(u, new), sym)
    facts = [*free_facts(u, key, sym), who_formula(ctx.query, u, sym)]
    recheck = partial(_witness, sym, u, ctx.base, ctx.policies, key.arn)
    soft, cases = _tiers(sym, u), entry_cases(sym, u)
    return Pair(sym, facts, allowed_o, allowed_n, recheck, key.arn, ctx.caveat, soft, {}, (), cases)


def _iam_pair(ctx: _Ctx, u: Universe, resource: str, infos: list[ActionInfo]) -> Pair:
    old, new = ctx.policies
    sym = new_sym(infos, set_bound=ctx.bound)
    open_keys(sym)
    target = Target(arn=resource)

    def allows(policy: Policy) -> z3.BoolRef:
        holder = _holding(u, policy)

        def decided(s: Sym) -> z3.BoolRef:
            m = layer((policy,), s, holder, target)
            return z3.And(m.allow, z3.Not(m.deny))

        return z3.And(decided(sym), tagging_allowed(sym, decided))

    facts = [*free_facts(u, None, sym), who_formula(ctx.query, u, sym)]
    recheck = partial(_witness, sym, u, ctx.base, ctx.policies, resource)
    where = resource if resource != "*" else "requests on no key"
    soft, cases = _tiers(sym, u), entry_cases(sym, u)
    return Pair(
        sym, facts, allows(old), allows(new), recheck, where, ctx.caveat, soft, {}, (), cases
    )


def _witness(
    sym: Sym,
    u: Universe,
    base: World,
    policies: tuple[Policy, Policy],
    resource: str,
    model: z3.ModelRef,
) -> Witness:
    req, assumed = decode(model, sym, u, base.keys[0])
    notes: dict[str, str] = {}
    if ":key/" in resource:
        req = replace(req, key=resource)
        tags = _resource_tags(req)
        if tags:  # the class's key, carrying the tags the solver chose
            keys = tuple(replace(k, tags=tags) if k.arn == resource else k for k in base.keys)
            base = replace(base, keys=keys)
            shown = ", ".join(f"{k}={v}" for k, v in tags)
            notes[resource] = f"the key is tagged {shown} (any key of its class may be)"
    else:  # IAM alone decides: on an alias ARN, or on no resource (`*`)
        req = replace(req, key=None, resource=resource if resource != "*" else None)
    holder = next(iter(assumed))  # the callers are unnamed: decode names their identity
    old, new = (side_check(_with_holder(base, req, holder, p), req, {}) for p in policies)
    note = "its only identity policy is the one compared (OLD's on one side, NEW's on the other)"
    return Witness(req, old, new, {holder: note, **notes})


def _resource_tags(req: Request) -> tuple[tuple[str, str], ...]:
    """The key tags a witness's aws:ResourceTag/<t> values say the key carries."""
    return tuple(
        (req.context.names[low].split("/", 1)[1], vals[0])
        for low, vals in sorted(req.context.values.items())
        if low.startswith("aws:resourcetag/") and vals
    )


def _with_holder(base: World, req: Request, arn: str, policy: Policy) -> World:
    """`base` plus the caller's identity holding `policy`, with the tags the request shows."""
    tags = tuple(
        (req.context.names[low].split("/", 1)[1], vals[0])
        for low, vals in req.context.values.items()
        if low.startswith("aws:principaltag/") and vals
    )
    acct = parse_caller(arn).account or SUBJECT_ACCOUNT
    ident = Identity(arn=arn, policies=(policy,), tags=tags)
    account = Account(acct, principals=types.MappingProxyType({arn: ident}))
    return replace(base, accounts=types.MappingProxyType({acct: account}))

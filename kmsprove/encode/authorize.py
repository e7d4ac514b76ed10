"""The decision procedure of kms-semantics.md R1.13 as one formula.

`encode_allowed(world, key, universe, sym)` is true exactly for the requests
AWS allows. Twin: `kmsprove.evaluate.kms`; never imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import z3

from kmsprove.arn import ALIAS_ARN, ALIAS_NAME, KEY_ID, is_service_role
from kmsprove.ast import Policy
from kmsprove.catalog import (
    action_info,
    crypto_operations,
    key_usage_operations,
    takes_alias,
    usage_class,
)
from kmsprove.encode.errors import Unmodelled
from kmsprove.encode.grants import grants_formula, retire_formula
from kmsprove.encode.layers import LayerFormula, Target, layer
from kmsprove.encode.principals import is_entry
from kmsprove.encode.symbolic import Sym, naming_is
from kmsprove.encode.text import lit
from kmsprove.encode.universe import Universe
from kmsprove.request import Via
from kmsprove.world import Identity, Key, World


@dataclass
class Identities:
    """The caller's identity side over every universe entry (R1.6, R1.7b)."""

    allow: z3.BoolRef
    deny: z3.BoolRef
    pb_ok: z3.BoolRef
    pb_deny: z3.BoolRef
    sp_ok: z3.BoolRef
    sp_deny: z3.BoolRef

    @property
    def ok(self) -> z3.BoolRef:
        return z3.And(self.allow, self.pb_ok, self.sp_ok)


def identities(u: Universe, sym: Sym, target: Target, session_policy: Policy | None) -> Identities:
    allow: list[z3.BoolRef] = []
    deny: list[z3.BoolRef] = []
    pb_fail: list[z3.BoolRef] = []
    pb_deny: list[z3.BoolRef] = []
    cache: dict[int, tuple[LayerFormula, LayerFormula | None]] = {}
    for e in u.entries:
        here = sym.pid == e.index
        if e.any_iam:
            if not sym.fixed:  # its administrators may give it any identity policy
                allow.append(here if sym.open_iam is None else z3.And(here, sym.open_iam))
            continue
        ident: Identity | None = e.identity
        if ident is None or e.kind in ("root", "service"):
            continue
        if id(ident) not in cache:
            ip = layer(ident.policies, sym, u, target)
            pb = layer((ident.boundary,), sym, u, target) if ident.boundary else None
            cache[id(ident)] = (ip, pb)
        ip, pb = cache[id(ident)]
        allow.append(z3.And(here, ip.allow))
        deny.append(z3.And(here, ip.deny))
        if pb is not None:
            pb_fail.append(z3.And(here, z3.Not(pb.allow)))
            pb_deny.append(z3.And(here, pb.deny))
    sp_ok, sp_deny = z3.BoolVal(True), z3.BoolVal(False)
    if session_policy is not None:
        sessions = is_entry(sym, [e.index for e in u.entries if e.kind in ("session", "federated")])
        sp = layer((session_policy,), sym, u, target)
        sp_ok, sp_deny = z3.Implies(sessions, sp.allow), z3.And(sessions, sp.deny)
    return Identities(
        allow=z3.Or(*allow) if allow else z3.BoolVal(False),
        deny=z3.Or(*deny) if deny else z3.BoolVal(False),
        pb_ok=z3.Not(z3.Or(*pb_fail)) if pb_fail else z3.BoolVal(True),
        pb_deny=z3.Or(*pb_deny) if pb_deny else z3.BoolVal(False),
        sp_ok=sp_ok,
        sp_deny=sp_deny,
    )


def type_forbids(key: Key, sym: Sym) -> z3.BoolRef:
    """The key type can never do it (R3.5): kmsprove decides deny (docs/choices.md)."""
    fit = key_usage_operations().get(usage_class(key.key_spec, key.key_usage), frozenset())
    unfit = {op for op in crypto_operations() if op not in fit}
    if key.origin in ("AWS_CLOUDHSM", "EXTERNAL_KEY_STORE"):
        unfit |= {"GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext"}
    parts = [sym.is_action({f"kms:{op}" for op in unfit})]
    if unfit and "kms:CreateGrant" in {a.name for a in sym.actions}:
        ops = sym.key("kms:GrantOperations")
        bad = [z3.And(a, z3.Or(*[e == lit(o) for o in sorted(unfit)])) for a, e in ops.members()]
        parts.append(z3.And(sym.is_action({"kms:CreateGrant"}), z3.Or(*bad)))
    if not key.is_symmetric_encryption and "kms:CreateGrant" in {a.name for a in sym.actions}:
        # an encryption-context constraint needs a symmetric encryption key (R4.5)
        constrained = sym.key("kms:GrantConstraintType").present
        parts.append(z3.And(sym.is_action({"kms:CreateGrant"}), constrained))
    return z3.Or(*parts)


def scp_blocks(
    world: World, u: Universe, sym: Sym, target: Target, exempt: z3.BoolRef
) -> z3.BoolRef:
    """The caller's account SCPs block it: a Deny, or no Allow path (R1.10)."""
    parts = []
    for i, acct_id in enumerate(u.accounts):
        acct = world.account(acct_id)
        if acct.scps_apply:
            scp = layer(acct.scps, sym, u, target)
            mine = is_entry(
                sym, [e.index for e in u.entries if e.account == i and e.kind != "service"]
            )
            parts.append(z3.And(mine, z3.Or(scp.deny, z3.Not(scp.allow))))
    return z3.And(z3.Not(exempt), z3.Or(*parts)) if parts else z3.BoolVal(False)


def _guardrails(
    world: World, key: Key, u: Universe, sym: Sym, target: Target, exempt: z3.BoolRef
) -> tuple[z3.BoolRef, z3.BoolRef, z3.BoolRef]:
    """(SCP block, RCP deny, VPC endpoint block) (R1.10)."""
    scp_block = scp_blocks(world, u, sym, target, exempt)
    rcp_deny = z3.BoolVal(False)
    key_acct = world.account(key.account)
    if key.manager == "CUSTOMER" and key_acct.rcps_apply:
        rcp = layer(key_acct.rcps, sym, u, target)
        rcp_deny = z3.And(z3.Not(exempt), z3.Not(sym.is_action({"kms:RetireGrant"})), rcp.deny)
    vpce_parts = []
    if sym.via_vpce is not None:
        for vid, policy in world.vpc_endpoints.items():
            m = layer((policy,), sym, u, target)
            vpce_parts.append(z3.And(sym.via_vpce == lit(vid), z3.Or(m.deny, z3.Not(m.allow))))
    vpce_block = z3.Or(*vpce_parts) if vpce_parts else z3.BoolVal(False)
    return scp_block, rcp_deny, vpce_block


def encode_allowed(
    world: World, key: Key, u: Universe, sym: Sym, session_policy: Policy | None = None
) -> z3.BoolRef:
    """True exactly when AWS allows the symbolic request on `key` (R1.13)."""
    if "kms:UpdatePrimaryRegion" in {a.name for a in sym.actions} and _replicas(world, key):
        # it also needs the replica's permission, with the replica's own key properties
        raise Unmodelled("UpdatePrimaryRegion on a key whose replica the world holds")
    target = Target(arn=key.arn)
    is_service = is_entry(sym, [e.index for e in u.entries if e.kind == "service"])
    is_root = is_entry(sym, [e.index for e in u.entries if e.kind == "root"])
    # service-linked roles (path /aws-service-role/) escape SCPs and RCPs (R1.10); only
    # a role the world lists can be one, never an unnamed role whatever its name; so do
    # sessions of roles AWS owns (`aws:ec2-infrastructure`, docs/choices.md)
    slr = is_entry(
        sym,
        [
            e.index
            for e in u.entries
            if e.kind == "session"
            and (
                (e.identity is not None and "/aws-service-role/" in e.identity.arn)
                or is_service_role(e.name or "")
            )
        ],
    )
    cross = z3.And(z3.Not(is_service), sym.acct != lit(key.account))
    cross_actions = {a.name for a in sym.actions if a.cross_account}
    disabled = [
        i for i, a in enumerate(u.accounts) if not world.account(a).region_enabled(key.region)
    ]
    region_off = is_entry(sym, [e.index for e in u.entries if e.account in disabled])
    scp_block, rcp_deny, vpce_block = _guardrails(
        world, key, u, sym, target, z3.Or(is_service, slr)
    )

    kp = layer(key.policies, sym, u, Target(arn=key.arn, key_policy=True))
    ids = identities(u, sym, target, session_policy)
    direct = z3.Or(
        kp.via(Via.USER),
        kp.via(Via.SESSION),
        kp.via(Via.WILDCARD),
        z3.And(z3.Or(kp.via(Via.ROLE), kp.via(Via.FEDERATED_USER)), ids.pb_ok, ids.sp_ok),
    )
    account_ok = z3.And(kp.via(Via.ACCOUNT), z3.Or(is_root, ids.ok))
    any_via = z3.Or(*kp.vias.values()) if kp.vias else z3.BoolVal(False)
    service_ok = z3.Or(kp.via(Via.SERVICE), kp.via(Via.WILDCARD))
    policies_ok = z3.If(
        is_service,
        service_ok,
        z3.If(cross, z3.And(any_via, z3.Or(is_root, ids.ok)), z3.Or(direct, account_ok)),
    )
    granted = grants_formula(key, u, sym, is_service)
    denied = z3.Or(kp.deny, ids.deny, ids.pb_deny, ids.sp_deny)
    blocked = z3.Or(
        scp_block,
        rcp_deny,
        vpce_block,
        z3.And(cross, z3.Not(sym.is_action(cross_actions))),
        z3.And(cross, region_off),
    )
    # a key ID or alias name resolves in the caller's own account; an alias names the key
    # only for operations that take one (R3.2)
    by_alias = naming_is(sym, ALIAS_ARN, ALIAS_NAME)
    alias_ok = sym.is_action({a.name for a in sym.actions if takes_alias(a)})
    misnamed = z3.Or(
        z3.And(by_alias, z3.Not(alias_ok)), z3.And(cross, naming_is(sym, KEY_ID, ALIAS_NAME))
    )
    refused = z3.Or(type_forbids(key, sym), misnamed)
    if key.manager == "AWS":
        refused = z3.Or(refused, sym.is_action({"kms:PutKeyPolicy"}))  # R7.5
    if not _replicas(world, key):  # no replica to make primary (the raise above otherwise)
        refused = z3.Or(refused, sym.is_action({"kms:UpdatePrimaryRegion"}))
    normal = z3.And(z3.Not(denied), z3.Not(blocked), z3.Or(policies_ok, granted), z3.Not(refused))
    if "kms:RetireGrant" not in {a.name for a in sym.actions}:
        return normal
    retire = z3.And(
        z3.Not(z3.Or(ids.deny, ids.pb_deny, ids.sp_deny, scp_block, vpce_block)),
        z3.Not(z3.And(cross, region_off)),
        z3.Not(misnamed),
        retire_formula(key, u, sym, ids.ok, sym.acct, is_root, is_service),
    )
    return z3.If(sym.is_action({"kms:RetireGrant"}), retire, normal)


def _replicas(world: World, key: Key) -> list[Key]:
    return [
        k
        for k in world.keys
        if key.multi_region
        and k.multi_region
        and k.key_id == key.key_id
        and k.account == key.account
        and k.arn != key.arn
    ]


def tagging_allowed(sym: Sym, allows: Callable[[Sym], z3.BoolRef]) -> z3.BoolRef:
    """CreateKey with tags also needs kms:TagResource (KMS Developer Guide, "Tags in the
    API"): `allows(s)` is the identity side's decision for the request `s`. Twin:
    `kmsprove.evaluate.iam.decide_iam`."""
    if "kms:CreateKey" not in {a.name for a in sym.actions}:
        return z3.BoolVal(True)
    sym.key("aws:TagKeys")  # a tagged request is one the solver may choose
    tags = [
        v.present
        for n, v in sym.ctx.items()
        if n == "aws:tagkeys" or n.startswith("aws:requesttag/")
    ]
    info = action_info("kms:TagResource")
    assert info is not None
    tagging = replace(sym, actions=[info], action=z3.IntVal(0))  # the same request, tagging
    tagged = z3.And(sym.is_action({"kms:CreateKey"}), z3.Or(*tags))
    return z3.Implies(tagged, allows(tagging))

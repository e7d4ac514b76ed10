"""The S3 SSE-KMS composed read as one formula (kms-semantics.md section 8).

Two symbolic calls share the caller: the S3 request on a symbolic object of the
bucket, and the KMS request S3 makes with the caller's credentials (a forward
access session: kms:ViaService, the aws:s3:arn encryption context). Both must
be allowed (R8.1). Twin: `kmsprove.evaluate.s3`.
"""

from __future__ import annotations

import z3

from kmsprove.catalog import ActionInfo, action_info, not_forwarded_keys, s3_facts
from kmsprove.encode.authorize import encode_allowed, identities, scp_blocks
from kmsprove.encode.derive import free_facts, open_keys
from kmsprove.encode.errors import Unmodelled
from kmsprove.encode.layers import Target, layer
from kmsprove.encode.names import PRINTABLE
from kmsprove.encode.principals import is_entry
from kmsprove.encode.symbolic import Sym, new_sym
from kmsprove.encode.text import lit
from kmsprove.encode.universe import Universe
from kmsprove.request import EC_PREFIX, Via
from kmsprove.world import Bucket, Key, World

CARRIED = (
    "aws:currenttime",
    "aws:epochtime",
    "aws:multifactorauthpresent",
    "aws:multifactorauthage",
    "aws:userid",
    "aws:tokenissuetime",
)


def s3_action(name: str) -> ActionInfo:
    return ActionInfo(
        name=name,
        resource="object",
        where="iam",
        cross_account=True,
        grant_operation=False,
        encryption_context=False,
        condition_keys=("s3:*",),
    )


def s3_side(world: World, bucket: Bucket, u: Universe, sym: Sym, resource: z3.SeqRef) -> z3.BoolRef:
    """S3's own authorization of the request (R8.1 (1))."""
    target = Target(symbolic=resource)
    bp = layer((bucket.policy,), sym, u, target) if bucket.policy else None
    ids = identities(u, sym, target, None)
    is_service = is_entry(sym, [e.index for e in u.entries if e.kind == "service"])
    is_root = is_entry(sym, [e.index for e in u.entries if e.kind == "root"])
    scp_block = scp_blocks(world, u, sym, target, is_service)
    bp_deny = bp.deny if bp else z3.BoolVal(False)
    vias = bp.vias if bp else {}
    direct = (
        z3.Or(*[f for v, f in vias.items() if v is not Via.ACCOUNT])
        if any(v is not Via.ACCOUNT for v in vias)
        else z3.BoolVal(False)
    )
    account = vias.get(Via.ACCOUNT, z3.BoolVal(False))
    any_allow = bp.allow if bp else z3.BoolVal(False)
    same = sym.acct == lit(bucket.account)
    ok = z3.If(
        same,
        z3.Or(direct, ids.ok, z3.And(account, is_root)),
        z3.And(any_allow, z3.Or(is_root, ids.ok)),
    )
    return z3.And(z3.Not(z3.Or(bp_deny, ids.deny, ids.pb_deny, ids.sp_deny, scp_block)), ok)


def kms_call(sym: Sym, action: str, set_bound: int) -> Sym:
    """The symbolic KMS request S3 sends for the caller: same caller, own context."""
    info = action_info(action)
    assert info is not None
    kms = new_sym([info], set_bound)
    kms.prefix = "fas"
    kms.pid, kms.acct, kms.fresh_account, kms.name, kms.session = (
        sym.pid,
        sym.acct,
        sym.fresh_account,
        sym.name,
        sym.session,
    )
    kms.facts = [kms.action == 0]
    kms.naming = z3.IntVal(0)  # S3 names the bucket's key by its ARN (R8.3)
    return kms


def ties(world: World, bucket: Bucket, sym: Sym, kms: Sym, resource: z3.SeqRef) -> list[z3.BoolRef]:
    """The forwarded call's context (R8.2)."""
    via = kms.key("kms:ViaService")
    ec = kms.key(EC_PREFIX + "aws:s3:arn")
    ec_keys = kms.key("kms:EncryptionContextKeys")
    out = [
        via.present,
        via.value == lit(f"s3.{bucket.region}.amazonaws.com"),
        ec.present,
        ec.value == (lit(bucket.arn) if bucket.bucket_key else resource),
        ec_keys.present,
        ec_keys.count == 1,
        ec_keys.elems[0] == lit("aws:s3:arn"),
    ]
    out.extend(z3.Not(kms.key(low).present) for low in sorted(not_forwarded_keys()))
    for low in CARRIED:
        a, b = sym.key(low), kms.key(low)
        out.append(a.present == b.present)
        out.append(z3.Implies(a.present, a.value == b.value))
    for low, var in kms.ctx.items():
        if low.startswith(EC_PREFIX) and low != EC_PREFIX + "aws:s3:arn":
            out.append(z3.Not(var.present))
    return out


def encode_read(
    world: World, bucket: Bucket, key: Key, u: Universe, sym: Sym, set_bound: int
) -> tuple[z3.BoolRef, list[z3.BoolRef], z3.SeqRef]:
    """(allowed, facts, the object ARN) of an S3 action composed with its KMS calls."""
    action = sym.actions[0].name
    kms_actions = s3_facts()["sse_kms"].get(action)
    if kms_actions is None:
        raise Unmodelled(f"`{action}` with SSE-KMS")
    obj = z3.String("req.object")
    resource = z3.Concat(lit(bucket.arn + "/"), obj)
    allowed = [s3_side(world, bucket, u, sym, resource)]
    # an object key a witness shows: printable, 1 to 64 characters
    facts = [z3.InRe(obj, z3.Plus(PRINTABLE)), z3.Length(obj) <= 64]
    for name in kms_actions:
        kms = kms_call(sym, name, set_bound)
        # keys the KMS call's policies name are created while encoding; tie after
        open_keys(kms)
        kms.open_keys.pop("kms:grantisforawsresource", None)
        src_ip = sym.key("aws:SourceIp")
        kms.open_keys["aws:sourceip"] = (src_ip.present, ((src_ip.value,), None))  # 10.21
        allowed.append(encode_allowed(world, key, u, kms))
        facts += ties(world, bucket, sym, kms, resource)
        facts += free_facts(u, key, kms)
    return z3.And(*allowed), facts, resource

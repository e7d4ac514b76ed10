"""The S3 SSE-KMS composed read (kms-semantics.md section 8) — evaluator side.

An `s3:GetObject` on an SSE-KMS object needs two authorizations: S3's (bucket
policy and the reader's identity side) and KMS's, for the Decrypt that S3
makes with the reader's credentials (R8.1, R8.2). Twin: `kmsprove.encode.s3`.
"""

from __future__ import annotations

from dataclasses import replace

from kmsprove.arn import Caller, key_arn_parts, parse_caller
from kmsprove.catalog import not_forwarded_keys, s3_facts
from kmsprove.errors import InputError
from kmsprove.evaluate.context import complete_request
from kmsprove.evaluate.kms import evaluate_kms
from kmsprove.evaluate.layers import LayerMatch, Subject, match_policies
from kmsprove.request import Context, Decision, Layer, LayerResult, Request, Via
from kmsprove.world import Bucket, World


def _result(layer: Layer, m: LayerMatch, subject: str, note: str = "") -> LayerResult:
    return LayerResult(layer, m.effect, m.refs(), note, subject)


def evaluate_s3(world: World, req: Request) -> Decision:
    """Both authorizations of an SSE-KMS read or write; allowed only if both allow."""
    kms_actions = s3_facts()["sse_kms"].get(req.action)
    if kms_actions is None:
        return Decision(
            False, reason=f"`{req.action}` is not an S3 action kmsprove composes with KMS"
        )
    bucket = world.bucket(req.resource or "")
    if bucket is None:
        return Decision(False, reason=f"no bucket for `{req.resource}` in the world")
    caller = parse_caller(req.principal)
    s3_ok, s3_why, layers = _s3_side(world, req, caller, bucket)
    if bucket.kms_key is None or key_arn_parts(bucket.kms_key) is None:
        return Decision(
            False, tuple(layers), "unknown key: the bucket's default key is not a key ARN (R8.3)"
        )
    key = world.find_key(bucket.kms_key)
    if key is None:
        return Decision(
            False, tuple(layers), f"the bucket's key `{bucket.kms_key}` is not in the world"
        )
    if key.region != bucket.region:
        return Decision(False, tuple(layers), "the key is not in the bucket's Region (R8.4)")
    kms_ok = True
    kms_why = ""
    unknown = None  # the KMS deny may be wrong (an unresolved grantee, R4.3)
    for action in kms_actions:
        sub = _subrequest(world, req, bucket, key.arn, action)
        if isinstance(sub, str):
            return Decision(False, tuple(layers), sub)
        d = evaluate_kms(world, sub)
        layers.extend(replace(lr, subject=f"{action} by S3 for the caller") for lr in d.layers)
        if not d.allowed:
            kms_ok = False
            kms_why = f"KMS denies the {action} S3 makes for the caller: {d.reason}"
            unknown = d.unknown
            break
    if not s3_ok:
        return Decision(False, tuple(layers), s3_why)
    if not kms_ok:
        return Decision(False, tuple(layers), kms_why, unknown=unknown)
    return Decision(
        True,
        tuple(layers),
        f"S3 allows the {req.action} ({s3_why}) and KMS allows the {', '.join(kms_actions)} (R8.1)",
    )


def _subrequest(
    world: World, req: Request, bucket: Bucket, key_arn: str, action: str
) -> Request | str:
    """The KMS call S3 makes with the caller's credentials (a FAS call, R8.2)."""
    region = bucket.region
    ec_value = bucket.arn if bucket.bucket_key else (req.resource or "")
    carried: dict[str, str | tuple[str, ...]] = {
        req.context.names[k]: v
        for k, v in req.context.values.items()
        if k.startswith("aws:") and k not in not_forwarded_keys() and k != "aws:viaawsservice"
    }
    carried.update(
        {
            "kms:ViaService": f"s3.{region}.amazonaws.com",
            "aws:ViaAWSService": "true",
            "kms:EncryptionContext:aws:s3:arn": ec_value,
        }
    )
    sub = Request(
        principal=req.principal,
        action=action,
        key=key_arn,
        context=Context.of(carried),
        session_policy=req.session_policy,
        federated_from=req.federated_from,
    )
    try:
        done = complete_request(world, sub)
    except InputError as exc:
        return f"the KMS request S3 would make is inconsistent: {exc.diagnostics[0].message}"
    ip = req.context.get("aws:SourceIp")
    if ip is not None:
        done = replace(done, context=done.context.with_open("aws:SourceIp", (ip, None)))  # 10.21
    return done


def _s3_side(
    world: World, req: Request, caller: Caller, bucket: Bucket
) -> tuple[bool, str, list[LayerResult]]:
    """S3's own authorization: bucket policy and the caller's identity side (R8.1 (1))."""
    subject = f"{req.action} on {req.resource}"
    ident = None
    if caller.kind == "federated-user" and req.federated_from:
        ident = world.identity(req.federated_from)
    elif caller.kind not in ("root", "service"):
        ident = world.identity(req.principal)
    subj = Subject(
        caller,
        req.action,
        req.resource or "",
        req.context,
        req.federated_from,
        ident is not None and ident.boundary is not None,
    )
    layers: list[LayerResult] = []
    bp = match_policies((bucket.policy,), subj) if bucket.policy else LayerMatch()
    ip = match_policies(ident.policies if ident else (), subj)
    pb = match_policies((ident.boundary,), subj) if ident and ident.boundary else None
    sp = match_policies((req.session_policy,), subj) if req.session_policy else None
    layers.append(_result(Layer.BUCKET, bp, subject))
    layers.append(_result(Layer.IDENTITY, ip, subject))
    if pb is not None:
        layers.append(_result(Layer.BOUNDARY, pb, subject))
    if sp is not None:
        layers.append(_result(Layer.SESSION, sp, subject))
    acct = world.account(caller.account or "")
    scp = None
    if not caller.is_service and acct.scps_apply:
        scp = match_policies(acct.scps, subj)
        layers.append(_result(Layer.SCP, scp, subject))
    for m in (bp, ip, pb, sp, scp):
        if m is not None and m.denied:
            return False, "an explicit Deny on the S3 request (R1.3)", layers
    if scp is not None and not scp.allowed:
        return False, "the SCPs give the S3 request no Allow path (R1.10)", layers
    id_ok = ip.allowed and (pb is None or pb.allowed) and (sp is None or sp.allowed)
    root = caller.kind == "root"
    if caller.account == bucket.account:
        direct = bp.vias() - {Via.ACCOUNT}
        if direct or id_ok or (Via.ACCOUNT in bp.vias() and root):
            return True, "same account: the bucket policy or an IAM policy allows it", layers
        return False, "neither the bucket policy nor an IAM policy allows the S3 request", layers
    if not bp.allowed:
        return False, "the bucket policy does not allow this external caller (R8.1)", layers
    if root or id_ok:
        return True, "the bucket policy and the caller's IAM policy allow it", layers
    return False, "the caller's own IAM policies do not allow the S3 request (R8.1)", layers

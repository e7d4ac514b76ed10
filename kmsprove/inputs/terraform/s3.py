"""Terraform S3 resources -> `Bucket`s: `aws_s3_bucket` (its name and Region, and the
inline `policy` and `server_side_encryption_configuration` of AWS provider versions
before 4), `aws_s3_bucket_policy`, `aws_s3_bucket_server_side_encryption_configuration`
(`kms_master_key_id`, `bucket_key_enabled`). A bucket the plan gives only a policy or
an encryption configuration for is an existing bucket of the plan's account.

A bucket whose name only apply will tell cannot be asked about (`on bucket ARN` needs
its name): it is left out, with a warning. Its policy or default key known only after
apply is unsettled for the bucket's key (every key when that is not known either).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kmsprove.arn import key_arn_parts
from kmsprove.ast import Policy, PolicyKind
from kmsprove.inputs.terraform.context import Context
from kmsprove.inputs.terraform.kms import UNSETTLED, Draft, find_key
from kmsprove.inputs.terraform.place import node_of
from kmsprove.inputs.terraform.plan import Resource
from kmsprove.inputs.terraform.values import Value
from kmsprove.syntax.tree import JBool
from kmsprove.world import Bucket

ENCRYPTION = "aws_s3_bucket_server_side_encryption_configuration"
RULE = "rule.apply_server_side_encryption_by_default.kms_master_key_id"
INLINE_RULE = f"server_side_encryption_configuration.{RULE}"


@dataclass
class BucketDraft:
    name: str
    res: Resource | None = None  # the aws_s3_bucket, when the plan has it
    policy: Policy | None = None
    kms_key: str | None = None
    bucket_key: bool = False
    seen: list[Resource] = field(default_factory=list)
    unsettled: list[tuple[Resource, str, Value]] = field(default_factory=list)


def read_buckets(ctx: Context, keys: list[Draft]) -> list[Bucket]:
    drafts: dict[str, BucketDraft] = {}
    for r in ctx.plan.of_type("aws_s3_bucket"):
        if r.mode != "managed":
            continue
        name = r.attr("bucket").string
        if name is None:
            ctx.warn(
                node_of(r, "bucket"), f"`{r.address}`: its name is known only after apply: left out"
            )
            continue
        d = drafts.setdefault(name, BucketDraft(name))
        d.res = r
        for block in r.attr("server_side_encryption_configuration").items():
            _encryption(ctx, d, r, block, INLINE_RULE, keys)
        if r.expression("policy") is not None or r.attr("policy").string:
            _policy(ctx, d, r)
    for r in ctx.plan.of_type("aws_s3_bucket_policy", ENCRYPTION):
        name = _bucket_name(ctx, r)
        if name is None:
            continue
        d = drafts.setdefault(name, BucketDraft(name))
        if r.type == ENCRYPTION:
            _encryption(ctx, d, r, r.values, RULE, keys)
        else:
            _policy(ctx, d, r)
    return [_bucket(ctx, d) for d in drafts.values()]


def _bucket_name(ctx: Context, r: Resource) -> str | None:
    v = r.attr("bucket")
    if v.string:
        return v.string
    refs = ctx.plan.referenced(r, "bucket", ("aws_s3_bucket",))
    if len(refs) == 1 and refs[0].attr("bucket").string:
        return refs[0].attr("bucket").string
    ctx.warn(node_of(r, "bucket"), f"`{r.address}`: its bucket is known only after apply: left out")
    return None


def _policy(ctx: Context, d: BucketDraft, r: Resource) -> None:
    d.seen.append(r)
    v = r.attr("policy")
    if v.is_unknown:  # unsettled once the bucket's key is known
        d.unsettled.append((r, "`policy` is known only after apply", v))
        return
    doc = ctx.policy_attr(r, "policy", PolicyKind.BUCKET, None)
    if doc.policy is not None:
        d.policy = doc.policy


def _encryption(
    ctx: Context, d: BucketDraft, r: Resource, config: Value, path: str, keys: list[Draft]
) -> None:
    """Its `rule[].apply_server_side_encryption_by_default[]` and `bucket_key_enabled`."""
    d.seen.append(r)
    for rule in config.at("rule").items():
        flag = rule.at("bucket_key_enabled").node
        d.bucket_key = d.bucket_key or (isinstance(flag, JBool) and flag.value)
        for default in rule.at("apply_server_side_encryption_by_default").items():
            v = default.at("kms_master_key_id")
            if v.string or v.is_unknown:
                d.kms_key = _key_arn(ctx, d, r, path, v, keys)


def _key_arn(
    ctx: Context, d: BucketDraft, r: Resource, path: str, v: Value, keys: list[Draft]
) -> str | None:
    """The key ARN a `kms_master_key_id` names (a key ARN, key id, alias name or ARN)."""
    found = find_key(ctx, r, path, keys, v)
    if isinstance(found, Draft):
        return found.arn
    if found == UNSETTLED:
        d.unsettled.append((r, "`kms_master_key_id` is known only after apply", v))
        return None
    if v.string and key_arn_parts(v.string) is not None:
        return v.string  # a key outside the plan, named by its ARN
    ctx.warn(
        v.where or r.node,
        f"`{r.address}`: default key `{v.string}` is not a key of the plan: the bucket is "
        "read as having no default key",
    )
    return None


def _bucket(ctx: Context, d: BucketDraft) -> Bucket:
    region = ctx.place.region if d.res is None else ctx.place.region_of(ctx.plan, d.res)
    for res, what, v in d.unsettled:
        ctx.unsettled(res, what, d.kms_key, v.where)
    where = d.res or d.seen[0]
    return Bucket(
        arn=f"arn:{ctx.place.partition}:s3:::{d.name}",
        account=ctx.place.account,
        region=region,
        policy=d.policy,
        kms_key=d.kms_key,
        bucket_key=d.bucket_key,
        pos=where.node.pos,
    )

"""A template's KMS keys (with their aliases) and S3 buckets -> `Key`s and `Bucket`s.

- `AWS::KMS::Key`: `KeyPolicy` (omitted: AWS KMS's default key policy, the account's
  root with `kms:*`), `KeySpec`, `KeyUsage`, `MultiRegion` (a primary), `Origin`,
  `Enabled` (false: Disabled), `Tags`. Rotation and deletion windows decide nothing here.
- `AWS::KMS::ReplicaKey`: its `KeyPolicy` and `Tags` in this Region, with its primary's
  key id; its key spec and usage are the primary's, which is not in the template, so
  its answers are unknown.
- `AWS::KMS::Alias`: `AliasName` on the key `TargetKeyId` names (`Ref` gives the key
  id, `Fn::GetAtt ... Arn` the ARN); an alias of a key outside the template is left out.
- `AWS::S3::Bucket`: its SSE-KMS default key (`KMSMasterKeyID`: a template key by id,
  ARN or alias, or a key outside the template by ARN) and `BucketKeyEnabled`;
  `AWS::S3::BucketPolicy`: its bucket's policy.
"""

from __future__ import annotations

from dataclasses import replace

from kmsprove.arn import KEY_ID_RE
from kmsprove.ast import PolicyKind
from kmsprove.inputs.cloudformation.functions import text_of
from kmsprove.inputs.cloudformation.reading import Reading
from kmsprove.inputs.cloudformation.template import Resource
from kmsprove.inputs.documents import read_document
from kmsprove.inputs.unresolved import MARK, build, fill
from kmsprove.syntax.tree import JArray, JNode, JObject
from kmsprove.world import Bucket, Key

KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")


def default_key_policy(rd: Reading, res: Resource) -> dict[str, object]:
    t = rd.tpl
    return {
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{t.partition}:iam::{t.account}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }


def key_arn(rd: Reading, res: Resource) -> str:
    """The key's ARN, whatever it rests on recorded against that ARN."""
    with rd.r.capture(defer=True) as found:
        arn = rd.names.key_arn(res, None)
    rd.r.replay(found, arn)
    return arn


def read_key(rd: Reading, res: Resource) -> Key | None:
    arn = key_arn(rd, res)
    if rd.r.exists(res, arn) is False:
        rd.names.notes.pop(res.logical, None)  # not created: no id to speak of
        return None
    replica = res.type == "AWS::KMS::ReplicaKey"
    node = rd.required(res, "KeyPolicy", arn) if replica else rd.prop(res, "KeyPolicy", arn)
    if node is None and not replica:
        policy, diags = read_document(
            build(default_key_policy(rd, res), res.node), PolicyKind.KEY_POLICY, ""
        )
        rd.diags.extend(diags)
    else:
        policy = rd.policy(node, PolicyKind.KEY_POLICY, arn, "KeyPolicy")
    if policy is None:
        return None
    enabled = rd.flag(res, "Enabled", arn, True)
    origin = "AWS_KMS" if replica else rd.text(res, "Origin", arn, "AWS_KMS")
    multi = replica or rd.flag(res, "MultiRegion", arn, False)
    if replica:
        primary = rd.prop(res, "PrimaryKeyArn", arn)
        shown = (text_of(primary) or "?").replace(MARK, "?") if primary is not None else "?"
        rd.r.unknown(
            f"replica key `{res.logical}`",
            res.node,
            arn,
            f"its key spec and usage are its primary's (`{shown}`), which is not in this template",
        )
    state = "Enabled" if enabled else "Disabled"
    if origin == "EXTERNAL" and enabled:
        state = "PendingImport"  # until key material is imported
    return Key(
        arn=arn,
        policy=policy,
        state=state,
        key_spec="SYMMETRIC_DEFAULT"
        if replica
        else rd.text(res, "KeySpec", arn, "SYMMETRIC_DEFAULT"),
        key_usage="ENCRYPT_DECRYPT"
        if replica
        else rd.text(res, "KeyUsage", arn, "ENCRYPT_DECRYPT"),
        origin=origin,
        multi_region=multi,
        multi_region_key_type=("REPLICA" if replica else "PRIMARY") if multi else None,
        tags=rd.tags(rd.prop(res, "Tags", arn)),
        pos=res.node.pos,
    )


def find_key(keys: list[Key], ref: str) -> Key | None:
    """A template key by the id or ARN a property gives."""
    return next((k for k in keys if ref in (k.arn, k.key_id)), None)


def read_aliases(rd: Reading, keys: list[Key]) -> list[Key]:
    """The keys with the aliases the template gives them."""
    names: dict[str, list[str]] = {k.arn: [] for k in keys}
    for res in rd.resources("AWS::KMS::Alias"):
        if rd.r.exists(res, None) is False:
            continue
        target = rd.required(res, "TargetKeyId", None)
        ref = text_of(target) if target is not None else None
        if ref is None or MARK in ref:
            continue  # unresolved: recorded for every key
        key = find_key(keys, ref)
        if key is None:
            rd.warn(
                res.node,
                f"alias `{res.logical}` names key `{ref}`, which is not in this template: left out",
            )
            continue
        name = fill(rd.names.name(res, key.arn))
        if not name.startswith("alias/") or name.lower().startswith("alias/aws/"):
            rd.r.fail(
                res.node, f"`AliasName` `{name}` must start with `alias/` and not `alias/aws/`"
            )
            continue
        names[key.arn].append(name)
    return [replace(k, aliases=tuple(names[k.arn])) for k in keys]


def read_keys(rd: Reading) -> list[Key]:
    keys = [
        k
        for res in rd.resources("AWS::KMS::Key", "AWS::KMS::ReplicaKey")
        if (k := read_key(rd, res))
    ]
    return read_aliases(rd, keys)


# --------------------------------------------------------------------------
# buckets


def _object(node: JNode | None) -> JObject | None:
    return node if isinstance(node, JObject) else None


def bucket_key(rd: Reading, res: Resource, keys: list[Key]) -> tuple[str | None, bool]:
    """(the default key's ARN, BucketKeyEnabled) of an SSE-KMS bucket."""
    enc = _object(rd.prop(res, "BucketEncryption", None))
    rules = enc.get("ServerSideEncryptionConfiguration") if enc is not None else None
    for item in rules.items if isinstance(rules, JArray) else ():
        rule = _object(item)
        default = _object(rule.get("ServerSideEncryptionByDefault")) if rule else None
        algorithm = default.get("SSEAlgorithm") if default is not None else None
        if rule is None or default is None or algorithm is None:
            continue
        if text_of(algorithm) not in KMS_ALGORITHMS:
            continue
        flag = rule.get("BucketKeyEnabled")
        on = flag is not None and (text_of(flag) or "").lower() == "true"
        given = default.get("KMSMasterKeyID")
        ref = text_of(given) if given is not None else None
        if ref is None:
            rd.warn(
                res.node,
                f"bucket `{res.logical}` uses the AWS managed key `aws/s3`, which is not in "
                "this template: its reads are unknown",
            )
            return None, on
        return key_ref(rd, ref, keys), on
    return None, False


def key_ref(rd: Reading, ref: str, keys: list[Key]) -> str | None:
    """A KMSMasterKeyID as a key ARN (a template key by id, ARN or alias), or as given."""
    if MARK in ref:
        return None
    key = find_key(keys, ref) or next((k for k in keys if ref in k.aliases), None)
    if key is not None:
        return key.arn
    t = rd.tpl
    if ref.startswith("alias/") or KEY_ID_RE.fullmatch(ref):
        kind = "" if ref.startswith("alias/") else "key/"
        return f"arn:{t.partition}:kms:{t.region}:{t.account}:{kind}{ref}"
    return ref


def read_buckets(rd: Reading, keys: list[Key]) -> list[Bucket]:
    t = rd.tpl
    out: dict[str, Bucket] = {}
    for res in rd.resources("AWS::S3::Bucket"):
        if rd.r.exists(res, None) is False:
            continue
        name = fill(rd.names.name(res, None))
        kms_key, on = bucket_key(rd, res, keys)
        arn = f"arn:{t.partition}:s3:::{name}"
        out[arn] = Bucket(arn, t.account, t.region, None, kms_key, on, pos=res.node.pos)
    for res in rd.resources("AWS::S3::BucketPolicy"):
        if rd.r.exists(res, None) is False:
            continue
        target = rd.required(res, "Bucket", None)
        given = text_of(target) if target is not None else None
        policy = rd.policy(
            rd.required(res, "PolicyDocument", None), PolicyKind.BUCKET, None, "PolicyDocument"
        )
        if given is None or MARK in given or policy is None:
            continue
        arn = f"arn:{t.partition}:s3:::{given}"
        bucket = out.get(arn) or Bucket(arn, t.account, t.region, pos=res.node.pos)
        if bucket.policy is not None:
            rd.r.fail(res.node, f"bucket `{given}` has two bucket policies in this template")
        out[arn] = replace(bucket, policy=policy)
    return list(out.values())

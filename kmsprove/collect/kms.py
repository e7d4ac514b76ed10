"""KMS: the keys of one account and Region (ListKeys, ListAliases), then each key
(DescribeKey, GetKeyPolicy `default`, ListGrants, ListResourceTags), as raw AWS output
under `accounts/ACCOUNT/kms/REGION/` and world entries that point at it.
"""

from __future__ import annotations

from typing import Any

from kmsprove.collect.aws import Aws, Refused
from kmsprove.collect.found import STAND_IN_POLICY, refusal
from kmsprove.collect.store import Store


def region_dir(account: str, region: str) -> str:
    return f"accounts/{account}/kms/{region}"


def collect_region(aws: Aws, store: Store, region: str) -> dict[str, Any]:
    """The keys and aliases of one Region; a refused listing leaves the Region out."""
    base = region_dir(aws.account, region)
    record: dict[str, Any] = {"keys": [], "aliases": {}, "refused": [], "files": []}
    try:
        listed = aws.pages("kms", "ListKeys", ("Keys",), region)
    except Refused as exc:
        record["refused"].append(
            refusal(
                exc.refusal,
                f"the keys of {aws.account} in {region}",
                "not in the world",
                None,
                False,
            )
        )
        return record
    record["files"].append(store.write(f"{base}/keys.json", listed))
    record["keys"] = sorted(k["KeyArn"] for k in listed["Keys"])
    try:
        aliases = aws.pages("kms", "ListAliases", ("Aliases",), region)
    except Refused as exc:
        # aliases decide kms:ResourceAliases and kms:RequestAlias: every key here is hedged
        record["refused"] += [
            refusal(exc.refusal, f"the aliases of {arn}", "aliases unknown", arn)
            for arn in record["keys"]
        ]
        record["aliases_unread"] = True
        return record
    record["files"].append(store.write(f"{base}/aliases.json", aliases))
    by_key: dict[str, list[str]] = {}
    for a in aliases["Aliases"]:
        if a.get("TargetKeyId"):
            by_key.setdefault(a["TargetKeyId"], []).append(a["AliasName"])
    record["aliases"] = {k: sorted(v) for k, v in sorted(by_key.items())}
    return record


def collect_key(aws: Aws, store: Store, arn: str) -> dict[str, Any]:
    """One key: its properties, policy, grants and tags; what is refused is hedged."""
    region, key_id = arn.split(":")[3], arn.split("/", 1)[1]
    base = f"{region_dir(aws.account, region)}/{key_id}"
    files: list[str] = []
    refused: list[dict[str, Any]] = []
    entry: dict[str, Any] = {"arn": arn}
    count = 0

    def refuse(exc: Refused, what: str, effect: str) -> None:
        refused.append(refusal(exc.refusal, f"{what} of {arn}", effect, arn))

    try:
        described = aws.call("kms", "DescribeKey", region, absent=("NotFoundException",), KeyId=arn)
    except Refused as exc:
        refuse(exc, "the properties", "taken as a symmetric customer managed key")
        described = {}
    if described is None:  # deleted between ListKeys and now
        return {"gone": True, "files": [], "refused": []}
    if described:
        files.append(store.write(f"{base}/describe-key.json", described))
        entry.update(key_properties(described["KeyMetadata"]))
    try:
        policy = aws.call("kms", "GetKeyPolicy", region, KeyId=arn, PolicyName="default")
        assert policy is not None
        files.append(store.write(f"{base}/key-policy.json", policy))
        entry["policy"] = f"{base}/key-policy.json"
    except Refused as exc:
        refuse(exc, "the key policy", "a stand-in policy that allows nothing")
        entry["policy"] = STAND_IN_POLICY
    try:
        grants = aws.pages("kms", "ListGrants", ("Grants",), region, KeyId=arn)
        files.append(store.write(f"{base}/grants.json", grants))
        entry["grants"] = f"{base}/grants.json"
        count = len(grants["Grants"])
    except Refused as exc:
        refuse(exc, "the grants", "no grants")
    try:
        tags = aws.pages("kms", "ListResourceTags", ("Tags",), region, KeyId=arn)
        files.append(store.write(f"{base}/tags.json", tags))
        entry["tags"] = {t["TagKey"]: t["TagValue"] for t in sorted(tags["Tags"], key=_tag)}
    except Refused as exc:
        refuse(exc, "the tags", "no tags")
    return {"key": entry, "grants": count, "files": files, "refused": refused}


def _tag(t: dict[str, str]) -> str:
    return t["TagKey"]


def key_properties(meta: dict[str, Any]) -> dict[str, Any]:
    """The world file's key fields from DescribeKey's KeyMetadata."""
    out: dict[str, Any] = {
        "manager": meta.get("KeyManager", "CUSTOMER"),
        "state": meta.get("KeyState", "Enabled"),
        "key_spec": meta.get("KeySpec") or meta.get("CustomerMasterKeySpec") or "SYMMETRIC_DEFAULT",
        "key_usage": meta.get("KeyUsage", "ENCRYPT_DECRYPT"),
        "origin": meta.get("Origin", "AWS_KMS"),
        "multi_region": bool(meta.get("MultiRegion", False)),
    }
    mrk = meta.get("MultiRegionConfiguration") or {}
    if mrk.get("MultiRegionKeyType"):
        out["multi_region_key_type"] = mrk["MultiRegionKeyType"]
    return out

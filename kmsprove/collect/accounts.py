"""One account's documents besides its keys: IAM (get-account-authorization-details,
which the world file's `import` reads), S3 buckets (policy, default encryption), KMS
VPC endpoint policies, and its enabled Regions (`--all-regions`).
"""

from __future__ import annotations

import json
from typing import Any

from kmsprove.collect.aws import Aws, Refused
from kmsprove.collect.found import refusal
from kmsprove.collect.store import Store

AUTH_DETAILS_LISTS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")


def collect_regions(aws: Aws, store: Store) -> dict[str, Any]:
    """The Regions the account has enabled (ec2:DescribeRegions answers only those)."""
    try:
        found = aws.call("ec2", "DescribeRegions")
    except Refused as exc:
        return {
            "regions": [aws.home_region],
            "refused": [
                refusal(
                    exc.refusal,
                    f"the Regions of {aws.account}",
                    f"{aws.home_region} only",
                    None,
                    False,
                )
            ],
            "files": [],
        }
    assert found is not None
    rel = store.write(f"accounts/{aws.account}/ec2/regions.json", {"Regions": found["Regions"]})
    return {
        "regions": sorted(r["RegionName"] for r in found["Regions"]),
        "refused": [],
        "files": [rel],
    }


def collect_iam(aws: Aws, store: Store) -> dict[str, Any]:
    """Every user, group, role and managed policy; the account is complete only when
    every page was read."""
    try:
        details = aws.pages("iam", "GetAccountAuthorizationDetails", AUTH_DETAILS_LISTS)
    except Refused as exc:
        effect = "the account stays open: principals of any policy may exist there"
        return {
            "complete": False,
            "refused": [refusal(exc.refusal, f"the IAM of {aws.account}", effect)],
            "files": [],
        }
    rel = store.write(f"accounts/{aws.account}/iam/authorization-details.json", details)
    principals = len(details["UserDetailList"]) + len(details["RoleDetailList"])
    return {
        "complete": True,
        "import": rel,
        "principals": principals,
        "refused": [],
        "files": [rel],
    }


def list_buckets(aws: Aws, store: Store) -> dict[str, Any]:
    try:
        found = aws.pages("s3", "ListBuckets", ("Buckets",))
    except Refused as exc:
        return {
            "buckets": [],
            "refused": [
                refusal(
                    exc.refusal, f"the buckets of {aws.account}", "not in the world", None, False
                )
            ],
            "files": [],
        }
    names = sorted(b["Name"] for b in found["Buckets"])
    return {"buckets": names, "refused": [], "files": []}


def collect_bucket(aws: Aws, store: Store, name: str, regions: list[str]) -> dict[str, Any]:
    """One bucket in a collected Region: its policy and default encryption."""
    base = f"accounts/{aws.account}/s3/{name}"
    try:
        loc = aws.call("s3", "GetBucketLocation", Bucket=name) or {}
    except Refused as exc:
        r = refusal(exc.refusal, f"bucket {name}", "not in the world", None, False)
        return {"refused": [r], "files": []}
    region = _bucket_region(loc.get("LocationConstraint"))
    if region not in regions:
        return {"elsewhere": region, "refused": [], "files": []}
    files = [store.write(f"{base}/location.json", {"LocationConstraint": region})]
    refused: list[dict[str, Any]] = []
    entry: dict[str, Any] = {
        "arn": f"arn:{aws.partition}:s3:::{name}",
        "account": aws.account,
        "region": region,
    }
    encryption: dict[str, Any] | None = None
    try:
        encryption = aws.call(
            "s3",
            "GetBucketEncryption",
            region,
            absent=("ServerSideEncryptionConfigurationNotFoundError",),
            Bucket=name,
        )
        if encryption is not None:
            files.append(store.write(f"{base}/encryption.json", encryption))
            entry.update(_default_key(encryption))
    except Refused as exc:
        refused.append(refusal(exc.refusal, f"the default encryption of bucket {name}", "none"))
    try:
        policy = aws.call(
            "s3", "GetBucketPolicy", region, absent=("NoSuchBucketPolicy",), Bucket=name
        )
        if policy is not None:
            files.append(store.write(f"{base}/policy.json", {"Policy": policy["Policy"]}))
            entry["policy"] = f"{base}/policy.json"
    except Refused as exc:
        # hedges the answers about the bucket's key (if known), else every answer
        refused.append(refusal(exc.refusal, f"the policy of bucket {name}", "no bucket policy"))
    return {"bucket": entry, "refused": refused, "files": files}


def _bucket_region(constraint: str | None) -> str:
    """GetBucketLocation's answer as a Region (null is us-east-1, `EU` eu-west-1)."""
    if not constraint:
        return "us-east-1"
    return "eu-west-1" if constraint == "EU" else constraint


def _default_key(encryption: dict[str, Any]) -> dict[str, Any]:
    """The SSE-KMS default of a bucket: the key as configured (resolved to a key ARN
    when the world is assembled) and whether S3 Bucket Keys are on."""
    rules = encryption.get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
    for rule in rules:
        default = rule.get("ApplyServerSideEncryptionByDefault") or {}
        if default.get("SSEAlgorithm") in KMS_ALGORITHMS:
            return {
                "kms_key_id": default.get("KMSMasterKeyID") or "alias/aws/s3",
                "bucket_key": bool(rule.get("BucketKeyEnabled", False)),
            }
    return {}


def collect_endpoints(aws: Aws, store: Store, region: str) -> dict[str, Any]:
    """The policies of the account's KMS interface endpoints in one Region."""
    names = [f"com.amazonaws.{region}.kms", f"com.amazonaws.{region}.kms-fips"]
    try:
        found = aws.pages(
            "ec2",
            "DescribeVpcEndpoints",
            ("VpcEndpoints",),
            region,
            Filters=[{"Name": "service-name", "Values": names}],
        )
    except Refused as exc:
        what = f"the KMS VPC endpoints of {aws.account} in {region}"
        return {
            "endpoints": {},
            "refused": [refusal(exc.refusal, what, "not in the world", None, False)],
            "files": [],
        }
    base = f"accounts/{aws.account}/ec2/{region}"
    endpoints: dict[str, str] = {}
    files = []
    if found["VpcEndpoints"]:
        files.append(store.write(f"{base}/vpc-endpoints.json", found))
    for ep in found["VpcEndpoints"]:
        doc = ep.get("PolicyDocument")
        if not doc:
            continue
        rel = store.write(
            f"{base}/{ep['VpcEndpointId']}.policy.json", json.loads(doc), document=True
        )
        endpoints[ep["VpcEndpointId"]] = rel
        files.append(rel)
    return {"endpoints": endpoints, "refused": [], "files": files}

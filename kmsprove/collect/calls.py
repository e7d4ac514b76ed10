"""Every AWS API call the collector makes, as data: the one place that says what
`kmsprove collect` may call and which IAM action authorizes each call.

`Aws.call` and `Aws.pages` refuse an operation that is not listed here, so the table is
complete by construction; `docs/collect-policy.json` is the least-privilege policy that
allows exactly these actions (a test decides each with kmsprove's own evaluator).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Call:
    service: str  # the boto3 client name
    operation: str  # the API operation, as AWS spells it
    action: str  # the IAM action that authorizes it
    why: str  # what the collector reads with it


CALLS: tuple[Call, ...] = (
    Call("sts", "GetCallerIdentity", "sts:GetCallerIdentity", "the account and partition"),
    Call("sts", "AssumeRole", "sts:AssumeRole", "--org: the role in each member account"),
    Call("kms", "ListKeys", "kms:ListKeys", "the keys of a Region"),
    Call("kms", "ListAliases", "kms:ListAliases", "aliases (kms:ResourceAliases, R5.2)"),
    Call("kms", "DescribeKey", "kms:DescribeKey", "spec, usage, state, origin, manager, MRK"),
    Call("kms", "GetKeyPolicy", "kms:GetKeyPolicy", "the key policy (`default`)"),
    Call("kms", "ListGrants", "kms:ListGrants", "the key's grants"),
    Call("kms", "ListResourceTags", "kms:ListResourceTags", "tags (aws:ResourceTag/*)"),
    Call(
        "iam",
        "GetAccountAuthorizationDetails",
        "iam:GetAccountAuthorizationDetails",
        "users, groups, roles, managed policies, boundaries, tags",
    ),
    Call("s3", "ListBuckets", "s3:ListAllMyBuckets", "the account's buckets"),
    Call("s3", "GetBucketLocation", "s3:GetBucketLocation", "a bucket's Region"),
    Call("s3", "GetBucketPolicy", "s3:GetBucketPolicy", "a bucket policy"),
    Call(
        "s3",
        "GetBucketEncryption",
        "s3:GetEncryptionConfiguration",
        "default encryption: the key and S3 Bucket Key",
    ),
    Call("ec2", "DescribeRegions", "ec2:DescribeRegions", "--all-regions: the enabled Regions"),
    Call("ec2", "DescribeVpcEndpoints", "ec2:DescribeVpcEndpoints", "KMS VPC endpoint policies"),
    Call(
        "organizations",
        "DescribeOrganization",
        "organizations:DescribeOrganization",
        "the organization id and management account",
    ),
    Call("organizations", "ListRoots", "organizations:ListRoots", "the root, policy types"),
    Call(
        "organizations",
        "ListOrganizationalUnitsForParent",
        "organizations:ListOrganizationalUnitsForParent",
        "the OU tree",
    ),
    Call(
        "organizations",
        "ListAccountsForParent",
        "organizations:ListAccountsForParent",
        "which OU holds each account",
    ),
    Call("organizations", "ListPolicies", "organizations:ListPolicies", "SCPs and RCPs"),
    Call("organizations", "DescribePolicy", "organizations:DescribePolicy", "a policy's content"),
    Call(
        "organizations",
        "ListTargetsForPolicy",
        "organizations:ListTargetsForPolicy",
        "where a policy is attached",
    ),
)

BY_OPERATION: dict[tuple[str, str], Call] = {(c.service, c.operation): c for c in CALLS}


def actions() -> list[str]:
    """The IAM actions the collector needs, sorted."""
    return sorted({c.action for c in CALLS})

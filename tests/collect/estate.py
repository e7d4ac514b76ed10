"""One AWS estate, seeded into moto through boto3, and the same estate written by hand
as a world file (inline documents), so answers on the collected world can be held
against answers on the hand-written one. Plus the botocore hooks the tests inject:
AWS's pagination (moto answers every list in one page), refusals, throttling, Ctrl-C.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse

from tests.collect.conftest import REGION, Hooks

A = "123456789012"  # moto's account for the `testing` credentials
PARTNER = "444455556666"
ROOT = f"arn:aws:iam::{A}:root"
READER = f"arn:aws:iam::{PARTNER}:role/Reader"


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


ROOT_ALL = {"Sid": "Enable IAM policies", "Principal": {"AWS": ROOT}, **allow("kms:*")}
K1_POLICY = doc(
    ROOT_ALL, {"Sid": "Partner reads", "Principal": {"AWS": READER}, **allow("kms:Decrypt")}
)
K2_POLICY = doc(ROOT_ALL)
K3_POLICY = doc(
    ROOT_ALL,
    {
        "Sid": "No deletion",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "kms:ScheduleKeyDeletion",
        "Resource": "*",
    },
)
APP_KMS = doc(allow(["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"]))
BOUNDARY = doc(allow(["kms:Decrypt", "kms:Encrypt"]))
EC2_TRUST = doc(
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
)
ACCOUNT_TRUST = doc({"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "sts:AssumeRole"})
SIGNER_INLINE = doc(allow("kms:Sign"))
DEVS_INLINE = doc(allow("kms:Encrypt"))
ALICE_INLINE = doc(allow("kms:DescribeKey"))
BUCKET = "data-bucket"
GRANTS = 60  # two pages of ListGrants (AWS's default page: 50)


def bucket_policy() -> dict[str, Any]:
    return doc(
        {
            "Sid": "Partner reads",
            "Effect": "Allow",
            "Principal": {"AWS": READER},
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/*",
        }
    )


def endpoint_policy(key: str) -> dict[str, Any]:
    return doc({"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": key})


@dataclass
class Estate:
    k1: str = ""  # symmetric, aliased, tagged, 120 grants, SSE-KMS key of the bucket
    k2: str = ""  # RSA_2048 SIGN_VERIFY
    k3: str = ""  # multi-Region primary
    grant_ids: list[str] = field(default_factory=list)
    endpoint: str = ""

    @property
    def keys(self) -> list[str]:
        return [self.k1, self.k2, self.k3]


def seed(aws: Hooks, grants: int = GRANTS) -> Estate:
    """Keys, grants, aliases, tags, IAM, a bucket with SSE-KMS and a KMS VPC endpoint
    (fewer `grants` where pagination is not the point: seeding takes the time)."""
    e = Estate()
    _iam(aws)
    kms = aws.client("kms")
    k1 = kms.create_key(Policy=json.dumps(K1_POLICY), Tags=[{"TagKey": "team", "TagValue": "blue"}])
    e.k1 = k1["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName="alias/app", TargetKeyId=e.k1)
    e.k2 = kms.create_key(Policy=json.dumps(K2_POLICY), KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")[
        "KeyMetadata"
    ]["Arn"]
    e.k3 = kms.create_key(Policy=json.dumps(K3_POLICY), MultiRegion=True)["KeyMetadata"]["Arn"]
    for n in range(grants):
        constraints = {"EncryptionContextSubset": {"app": f"a{n}"}} if n % 10 == 0 else None
        extra = {"Constraints": constraints} if constraints else {}
        g = kms.create_grant(
            KeyId=e.k1,
            GranteePrincipal=f"arn:aws:iam::{A}:role/App",
            Operations=["Decrypt", "GenerateDataKey"],
            Name=f"grant-{n:03d}",
            **extra,
        )
        e.grant_ids.append(g["GrantId"])
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_encryption(
        Bucket=BUCKET,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": "alias/app",
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(bucket_policy()))
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    e.endpoint = ec2.create_vpc_endpoint(
        VpcId=vpc,
        ServiceName=f"com.amazonaws.{REGION}.kms",
        VpcEndpointType="Interface",
        PolicyDocument=json.dumps(endpoint_policy(e.k1)),
    )["VpcEndpoint"]["VpcEndpointId"]
    return e


def _iam(aws: Hooks) -> None:
    iam = aws.client("iam")
    app_kms = iam.create_policy(PolicyName="AppKms", PolicyDocument=json.dumps(APP_KMS))["Policy"][
        "Arn"
    ]
    boundary = iam.create_policy(PolicyName="Boundary", PolicyDocument=json.dumps(BOUNDARY))[
        "Policy"
    ]["Arn"]
    iam.create_role(
        RoleName="App",
        AssumeRolePolicyDocument=json.dumps(EC2_TRUST),
        PermissionsBoundary=boundary,
        Tags=[{"Key": "team", "Value": "blue"}],
    )
    iam.attach_role_policy(RoleName="App", PolicyArn=app_kms)
    iam.create_role(RoleName="Signer", AssumeRolePolicyDocument=json.dumps(ACCOUNT_TRUST))
    iam.put_role_policy(
        RoleName="Signer", PolicyName="sign", PolicyDocument=json.dumps(SIGNER_INLINE)
    )
    iam.create_group(GroupName="devs")
    iam.put_group_policy(
        GroupName="devs", PolicyName="encrypt", PolicyDocument=json.dumps(DEVS_INLINE)
    )
    iam.create_user(UserName="alice")
    iam.add_user_to_group(GroupName="devs", UserName="alice")
    iam.put_user_policy(
        UserName="alice", PolicyName="describe", PolicyDocument=json.dumps(ALICE_INLINE)
    )


def hand_world(e: Estate) -> dict[str, Any]:
    """The seeded estate, written by hand as a world file."""
    grants = [
        {
            "GrantId": gid,
            "KeyId": e.k1,
            "GranteePrincipal": f"arn:aws:iam::{A}:role/App",
            "Operations": ["Decrypt", "GenerateDataKey"],
            **(
                {"Constraints": {"EncryptionContextSubset": {"app": f"a{n}"}}}
                if n % 10 == 0
                else {}
            ),
        }
        for n, gid in enumerate(e.grant_ids)
    ]
    role = f"arn:aws:iam::{A}:role"
    return {
        "version": 1,
        "keys": [
            {
                "arn": e.k1,
                "policy": K1_POLICY,
                "grants": grants,
                "aliases": ["alias/app"],
                "tags": {"team": "blue"},
            },
            {"arn": e.k2, "policy": K2_POLICY, "key_spec": "RSA_2048", "key_usage": "SIGN_VERIFY"},
            {
                "arn": e.k3,
                "policy": K3_POLICY,
                "multi_region": True,
                "multi_region_key_type": "PRIMARY",
            },
        ],
        "accounts": {
            A: {
                "complete": True,
                "principals": {
                    f"{role}/App": {
                        "policies": [APP_KMS],
                        "boundary": BOUNDARY,
                        "tags": {"team": "blue"},
                        "trust_policy": EC2_TRUST,
                    },
                    f"{role}/Signer": {"policies": [SIGNER_INLINE], "trust_policy": ACCOUNT_TRUST},
                    f"arn:aws:iam::{A}:user/alice": {
                        "policies": [ALICE_INLINE, DEVS_INLINE],
                        "groups": ["devs"],
                    },
                },
            }
        },
        "buckets": [
            {
                "arn": f"arn:aws:s3:::{BUCKET}",
                "account": A,
                "region": REGION,
                "policy": bucket_policy(),
                "kms_key": e.k1,
                "bucket_key": True,
            }
        ],
        "vpc_endpoints": {e.endpoint: endpoint_policy(e.k1)},
    }


# --------------------------------------------------------------------------
# hooks: what moto does not do, and the faults AWS throws


def paginate(
    aws: Hooks, service: str, operation: str, lists: tuple[str, ...], style: str
) -> list[int]:
    """AWS's pagination for an operation moto answers in one page: each call returns
    the page its `Limit`/`MaxItems` and `Marker` ask for (AWS's default page size when
    none is given). Returns the page sizes served, for the test to check."""
    limit_name, default = ("Limit", 50) if style == "kms" else ("MaxItems", 100)
    truncated, next_marker = (
        ("Truncated", "NextMarker") if style == "kms" else ("IsTruncated", "Marker")
    )
    served: list[int] = []

    def before(params: dict[str, Any], context: dict[str, Any], **kw: Any) -> None:
        context["page"] = (int(params.get(limit_name) or default), int(params.get("Marker") or 0))

    def after(parsed: dict[str, Any], context: dict[str, Any], **kw: Any) -> None:
        if "Error" in parsed or "page" not in context:
            return
        limit, start = context["page"]
        more = any(len(parsed.get(k) or []) > start + limit for k in lists)
        for k in lists:
            parsed[k] = (parsed.get(k) or [])[start : start + limit]
        served.append(sum(len(parsed[k]) for k in lists))
        parsed[truncated] = more
        parsed.pop(next_marker, None)
        if more:
            parsed[next_marker] = str(start + limit)

    aws.on(f"before-parameter-build.{service}.{operation}", before)
    aws.on(f"after-call.{service}.{operation}", after)
    return served


def error_response(
    code: str, message: str, status: int = 400
) -> tuple[AWSResponse, dict[str, Any]]:
    """What `before-call` returns to answer a call without sending it."""
    parsed = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return AWSResponse("https://example.invalid", status, {}, None), parsed


def refuse(aws: Hooks, service: str, operation: str, code: str, when: Any = None) -> list[str]:
    """AWS refuses `operation` (for the calls `when(params)` picks; all by default)."""
    refused: list[str] = []

    def handler(params: dict[str, Any], **kw: Any) -> Any:
        body = _body(params)
        if when is not None and not when(body):
            return None
        refused.append(json.dumps(body, sort_keys=True))
        return error_response(code, f"User is not authorized to perform: {operation}", 403)

    aws.on(f"before-call.{service}.{operation}", handler)
    return refused


def _body(params: dict[str, Any]) -> dict[str, Any]:
    """The call's parameters: a JSON body (KMS), form fields (IAM, EC2), none (S3)."""
    raw = params.get("body") or b"{}"
    if isinstance(raw, dict):
        return raw
    try:
        out: dict[str, Any] = json.loads(raw)
    except ValueError:
        out = {}
    return out


class _Raw:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **kw: Any) -> Any:
        yield self.data


def throttle(aws: Hooks, service: str, operation: str, times: int) -> list[int]:
    """The first `times` sends of `operation` answer ThrottlingException (botocore's
    retry handler sees them as AWS's); returns a counter of sends."""
    sent = [0]

    def handler(request: Any, **kw: Any) -> Any:
        sent[0] += 1
        if sent[0] > times:
            return None
        body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
        headers = {
            "x-amzn-errortype": "ThrottlingException",
            "content-type": "application/x-amz-json-1.1",
        }
        return AWSResponse(request.url, 400, headers, _Raw(body))

    aws.on(f"before-send.{service}.{operation}", handler)
    return sent


def interrupt(aws: Hooks, service: str, operation: str, on_call: int) -> None:
    """Ctrl-C during the `on_call`-th call of `operation`."""
    seen = [0]

    def handler(**kw: Any) -> None:
        seen[0] += 1
        if seen[0] == on_call:
            raise KeyboardInterrupt

    aws.on(f"before-call.{service}.{operation}", handler)

"""`kmsprove validate` on policies: every semantic message, exact `FILE:LINE:COL` lines.

Each case writes one file into tmp_path, runs the real CLI and compares the
whole stderr with the expected lines (so a missing *or* an extra diagnostic
fails), the exit code (2 with errors, 0 with warnings only) and checks that
nothing was written. Positions are computed from the input text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.builders import at, key_stmt, policy_text, stmt_at, value_at
from tests.support.cli import run_validate

ROOT = "arn:aws:iam::111122223333:root"
KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
FORMS = (
    "expected `*`, a 12-digit account id, or an IAM `root`, `user/NAME`, `role/NAME` "
    "or STS `assumed-role/ROLE/SESSION`, `federated-user/NAME` ARN"
)

Expected = list[tuple[str, str, str]]  # (":LINE:COL" or "#Policy:LINE:COL", severity, message)
CASES: list[Any] = []


def case(name: str, kind: str | None, text: str, expected: Expected, file: str = "p.json") -> None:
    CASES.append(pytest.param(kind, file, text, expected, id=name))


kst = key_stmt  # a valid key-policy statement, changed by fields (None removes one)


def ist(**fields: Any) -> dict[str, Any]:
    """A valid identity-policy statement."""
    return kst(**{"Principal": None, "Resource": KEY_ARN, **fields})


def check(
    tmp_path: Path, kind: str | None, file: str, text: str | bytes, expected: Expected
) -> None:
    path = tmp_path / file
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    args = ["--kind", kind] if kind else []
    result = run_validate(tmp_path, *args, str(path))
    want = sorted(f"{path}{pos}: {sev}: {msg}" for pos, sev, msg in expected)
    got = result.stderr.splitlines()
    assert sorted(got) == want
    errors = any(sev == "error" for _, sev, _ in expected)
    assert result.exit_code == (2 if errors else 0), result.output
    if not errors:
        assert result.stdout.startswith("1 file(s) valid")


# -- principals ---------------------------------------------------------------

for name, value, sev, msg in [
    ("partial-wildcard-account", "arn:aws:iam::*:root", "error", None),
    ("partial-wildcard-role", "arn:aws:iam::111122223333:role/app-*", "error", None),
    ("not-a-principal", "x", "error", f"`x` is not a valid principal: {FORMS}"),
    ("not-iam", "arn:aws:s3:::b", "error", f"`arn:aws:s3:::b` is not a valid principal: {FORMS}"),
    (
        "partition",
        "arn:awz:iam::111122223333:root",
        "error",
        "`arn:awz:iam::111122223333:root`: unknown partition `awz` (did you mean `aws`?)",
    ),
    (
        "region",
        "arn:aws:iam:us-east-1:111122223333:root",
        "error",
        "`arn:aws:iam:us-east-1:111122223333:root`: IAM and STS ARNs have no Region, found `us-east-1`",
    ),
    (
        "account",
        "arn:aws:iam::1234:root",
        "error",
        "`arn:aws:iam::1234:root`: account `1234` is not a 12-digit account id",
    ),
    (
        "group",
        "arn:aws:iam::111122223333:group/admins",
        "error",
        "`arn:aws:iam::111122223333:group/admins` is an IAM group: groups cannot be principals",
    ),
    (
        "unique-id",
        "AROAEXAMPLEDELETED0001",
        "warning",
        "`AROAEXAMPLEDELETED0001` is a unique id, not an ARN: the principal it stood for was deleted, "
        "and it matches nobody, not even a re-created namesake",
    ),
]:
    text = policy_text(kst(Principal={"AWS": value}))
    msg = msg or (
        f"partial wildcard `{value}` in `Principal`: only a bare `*` is a wildcard "
        '(use `"*"` with an `ArnLike` condition on `aws:PrincipalArn`)'
    )
    case(f"principal-{name}", "key-policy", text, [(at(text, json.dumps(value)), sev, msg)])

text = policy_text(kst(Principal={"Service": ["logs.*.amazonaws.com", "cloudtrail"]}))
case(
    "principal-service",
    "key-policy",
    text,
    [
        (
            at(text, '"logs.*'),
            "error",
            "wildcard in service principal `logs.*.amazonaws.com`: service principals are exact names",
        ),
        (
            at(text, '"cloudtrail"'),
            "error",
            "`cloudtrail` is not a service principal name (such as `cloudtrail.amazonaws.com`)",
        ),
    ],
)
text = policy_text(
    kst(Principal={"Federated": "cognito-identity.amazonaws.com", "CanonicalUser": "79a59df9"})
)
case(
    "principal-federated-canonical",
    "key-policy",
    text,
    [
        (
            at(text, '"cognito'),
            "warning",
            "`Federated` principal `cognito-identity.amazonaws.com` matches no KMS caller: "
            "federated users call KMS as role sessions",
        ),
        (
            at(text, '"79a59df9"'),
            "warning",
            "`CanonicalUser` principal `79a59df9` is an S3 notion and matches no KMS caller",
        ),
    ],
)
text = policy_text(kst(), kst(Principal=None))
case(
    "principal-missing",
    "key-policy",
    text,
    [
        (
            stmt_at(2),
            "error",
            "statement has no `Principal`: every statement of a key policy names one",
        )
    ],
)
text = policy_text(kst(Principal=None, NotPrincipal={"AWS": ROOT}))
case(
    "not-principal-allow",
    "key-policy",
    text,
    [(at(text, json.dumps(ROOT)), "error", '`NotPrincipal` works only with `"Effect": "Deny"`')],
)
SESSION = "arn:aws:sts::111122223333:assumed-role/Admin/s1"
text = policy_text(kst(Effect="Deny", Principal=None, NotPrincipal={"AWS": SESSION}))
case(
    "not-principal-exemptions",
    "key-policy",
    text,
    [
        (
            at(text, json.dumps(SESSION)),
            "warning",
            f"`NotPrincipal` exempts `{SESSION}` but not its account `{ROOT}`: AWS may check the account first and deny",
        ),
        (
            at(text, json.dumps(SESSION)),
            "warning",
            f"`NotPrincipal` exempts session `{SESSION}` but not its role `arn:aws:iam::111122223333:role/Admin`: "
            "AWS may check the role first and deny",
        ),
    ],
)
text = policy_text(
    kst(Principal="*"),
    kst(Principal="*", Condition={"StringEquals": {"kms:CallerAccount": "111122223333"}}),
)
case(
    "principal-star",
    "key-policy",
    text,
    [
        (
            at(text, '"*"'),
            "warning",
            '`Principal: "*"` allows every principal of every AWS account: restrict it with a condition '
            "on `kms:CallerAccount`, `aws:PrincipalOrgID`, `aws:PrincipalArn` or `kms:ViaService`",
        )
    ],
)
for kind, label in (("identity-policy", "an identity policy"), ("scp", "an SCP")):
    text = policy_text(ist(Principal={"AWS": ROOT}))
    case(
        f"principal-in-{kind}",
        kind,
        text,
        [(at(text, json.dumps(ROOT)), "error", f"{label} cannot have `Principal`")],
    )
    text = policy_text(ist(Effect="Deny", NotPrincipal={"AWS": ROOT}))
    case(
        f"not-principal-in-{kind}",
        kind,
        text,
        [(at(text, json.dumps(ROOT)), "error", f"{label} cannot have `NotPrincipal`")],
    )

# -- principals AWS accepts that are almost surely mistakes --------------------

TIED = {"StringEquals": {"aws:SourceAccount": "111122223333"}}
SERVICES = ["logs.region.amazonaws.com", "logs.REGION.amazonaws.com", "logs.us-east1.amazonaws.com"]
text = policy_text(kst(Principal={"Service": SERVICES}, Condition=TIED))
case(
    "service-not-a-service-principal",
    "key-policy",
    text,
    [
        (
            at(text, json.dumps(SERVICES[0])),
            "warning",
            "`logs.region.amazonaws.com` is not a service principal: `region` stands for a "
            "Region name (for example `logs.us-east-1.amazonaws.com`)",
        ),
        (
            at(text, json.dumps(SERVICES[1])),
            "warning",
            "`logs.REGION.amazonaws.com` is not a service principal: `REGION` stands for a "
            "Region name (for example `logs.us-east-1.amazonaws.com`)",
        ),
        (
            at(text, json.dumps(SERVICES[2])),
            "warning",
            "`logs.us-east1.amazonaws.com` is not a service principal: `us-east1` is not a "
            "Region name (for example `logs.us-east-1.amazonaws.com`)",
        ),
    ],
)
text = policy_text(
    kst(
        Principal={"Service": ["cloudtrail.amazonaws.com", "logs.us-east-1.amazonaws.com"]},
        Condition=TIED,
    ),
    kst(Principal={"Service": "delivery.logs.amazonaws.com"}, Condition=TIED),
)
case("service-real-principals-are-fine", "key-policy", text, [])
text = policy_text(kst(Principal={"Service": "logs.${AWS::Region}.amazonaws.com"}))
case(
    "service-template-placeholder-is-an-error",
    "key-policy",
    text,
    [
        (
            at(text, '"logs.$'),
            "error",
            "`logs.${AWS::Region}.amazonaws.com` is not a service principal name "
            "(such as `cloudtrail.amazonaws.com`)",
        )
    ],
)
DEPUTY = (
    "`{}` may act for any account: no `aws:SourceAccount` or `aws:SourceArn` condition "
    "ties it to one (confused deputy)"
)
text = policy_text(
    kst(Principal={"Service": "cloudtrail.amazonaws.com"}, Action="kms:GenerateDataKey*"),
    kst(
        Principal={"Service": "cloudtrail.amazonaws.com"},
        Action="kms:GenerateDataKey*",
        Condition={
            "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": "arn:aws:cloudtrail:*"}
        },
    ),
    kst(Effect="Deny", Principal={"Service": "logs.us-east-1.amazonaws.com"}),
)
case(
    "confused-deputy-key-policy",
    "key-policy",
    text,
    [
        (
            at(text, '"cloudtrail.amazonaws.com"'),
            "warning",
            DEPUTY.format("cloudtrail.amazonaws.com"),
        )
    ],
)
text = policy_text(
    {
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::logs/*",
    }
)
case(
    "confused-deputy-bucket-policy",
    None,  # guessed: a principal and an S3 resource
    text,
    [(at(text, '"logging.s3'), "warning", DEPUTY.format("logging.s3.amazonaws.com"))],
)
USER_ROOT = "arn:aws:iam::111122223333:user/root"
text = policy_text(kst(Principal={"AWS": [ROOT, USER_ROOT]}))
case(
    "principal-user-named-root",
    "key-policy",
    text,
    [
        (
            at(text, json.dumps(USER_ROOT)),
            "warning",
            f"`user/root` is an IAM user named root, not the account: the account is `{ROOT}`",
        )
    ],
)
NO_PRINCIPAL = (
    "no statement names a principal: this looks like an identity policy or an SCP, "
    "not a key policy (use `--kind scp` or `--kind identity-policy`)"
)
MISSING = "statement has no `Principal`: every statement of a key policy names one"
text = policy_text(kst(Principal=None), kst(Principal=None, Effect="Deny", Action="kms:Decrypt"))
case(
    "key-policy-without-principals",
    "key-policy",
    text,
    [
        (":1:1", "warning", NO_PRINCIPAL),
        (stmt_at(1), "error", MISSING),
        (stmt_at(2), "error", MISSING),
    ],
)
inner = policy_text(kst(Principal=None))
case(
    "get-key-policy-without-principals",
    None,  # guessed from the envelope: a key policy
    json.dumps({"Policy": inner}),
    [("#Policy:1:1", "warning", NO_PRINCIPAL), ("#Policy" + stmt_at(1), "error", MISSING)],
)
text = policy_text(ist())
case("identity-policy-guessed-without-principals-is-fine", None, text, [])

# -- RCPs, bucket and trust policies -----------------------------------------

text = policy_text(
    {"Effect": "Deny", "Principal": {"AWS": ROOT}, "Action": "kms:RetireGrant", "Resource": "*"},
    {"Effect": "Deny", "NotPrincipal": {"AWS": ROOT}, "Action": "kms:Decrypt", "Resource": "*"},
    {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"},
    {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
    {"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"},
)
case(
    "rcp",
    "rcp",
    text,
    [
        (at(text, json.dumps(ROOT)), "error", f'an RCP `Principal` must be `"*"`, not `{ROOT}`'),
        (
            stmt_at(1),
            "warning",
            "an RCP cannot restrict `kms:RetireGrant`: this entry has no effect",
        ),
        (at(text, json.dumps(ROOT), 2), "error", "an RCP cannot have `NotPrincipal`"),
        (
            stmt_at(3),
            "error",
            'an RCP statement can only `Deny`: `"Effect": "Allow"` is reserved to `RCPFullAWSAccess` '
            "(Principal, Action and Resource `*`, no Condition)",
        ),
        (stmt_at(5), "error", "statement has no `Principal`: every statement of an RCP names one"),
    ],
)
bucket_st = {
    "Sid": "Read",
    "Effect": "Allow",
    "Principal": {"AWS": ROOT},
    "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::b/*",
}
text = policy_text(
    bucket_st, bucket_st, {**bucket_st, "Sid": "Other", "Principal": None, "Resource": None}
)
case(
    "bucket-policy",
    None,  # guessed: principals and an S3 resource
    text.replace(', "Principal": null', "").replace(', "Resource": null', ""),
    [
        (stmt_at(2), "error", "duplicate `Sid` `Read` (first at line 2, column 1)"),
        (
            stmt_at(3),
            "error",
            "statement has no `Principal`: every statement of a bucket policy names one",
        ),
        (stmt_at(3), "error", "statement has no `Resource` or `NotResource`"),
    ],
)
trust_st = {
    "Effect": "Allow",
    "Principal": {"Service": "ec2.amazonaws.com"},
    "Action": "sts:AssumeRole",
}
text = policy_text(
    trust_st, {**trust_st, "Principal": {"Federated": "cognito-identity.amazonaws.com"}}
)
case("trust-policy-guessed-is-fine", None, text, [])
text = policy_text(trust_st, {**trust_st, "Resource": "*"})
# with a `Resource`, a trust-shaped document is guessed to be a key policy (trust policies
# are checked in world files, tests/cli/test_validate_grants_world.py)
case(
    "sts-actions-in-key-policy",
    "key-policy",
    text,
    [
        (
            stmt_at(1),
            "warning",
            "statement has no `Resource` or `NotResource`: KMS accepts it, but it never applies",
        ),
        (
            stmt_at(1),
            "warning",
            "`sts:AssumeRole` is not a KMS action: in a key policy it has no effect",
        ),
        (
            stmt_at(2),
            "warning",
            "`sts:AssumeRole` is not a KMS action: in a key policy it has no effect",
        ),
        *(
            (
                at(text, '"ec2.amazonaws.com"', n),
                "warning",
                "`ec2.amazonaws.com` may act for any account: no `aws:SourceAccount` or "
                "`aws:SourceArn` condition ties it to one (confused deputy)",
            )
            for n in (1, 2)
        ),
    ],
)

# -- actions ------------------------------------------------------------------

text = policy_text(kst(Action=["kms", "kms:Decrpyt", "kms:Foo*", "s3:GetObject", "KMS:decrypt"]))
case(
    "actions",
    "key-policy",
    text,
    [
        (
            stmt_at(1),
            "error",
            "`kms` is not an action: expected `SERVICE:ACTION` (such as `kms:Decrypt`) or `*`",
        ),
        (
            stmt_at(1),
            "warning",
            "action `kms:Decrpyt` does not exist (did you mean `kms:Decrypt`?)",
        ),
        (stmt_at(1), "warning", "`kms:Foo*` matches no KMS action"),
        (
            stmt_at(1),
            "warning",
            "`s3:GetObject` is not a KMS action: in a key policy it has no effect",
        ),
    ],
)
text = policy_text(
    kst(
        Action=[
            "kms:CreateKey",
            "kms:SynchronizeMultiRegionKey",
            "kms:RetireGrant",
            "kms:*CustomKeyStore*",
        ]
    )
)
case(
    "inert-actions",
    "key-policy",
    text,
    [
        (
            stmt_at(1),
            "warning",
            "`kms:CreateKey` is allowed only by IAM policies: in a key policy it has no effect",
        ),
        (
            stmt_at(1),
            "warning",
            "`kms:SynchronizeMultiRegionKey` is used only by KMS's service-linked role: in a key policy it has no effect",
        ),
        (
            stmt_at(1),
            "warning",
            "`kms:RetireGrant` is decided by the grant, not the key policy: in a key policy it has no effect",
        ),
        (
            stmt_at(1),
            "warning",
            "`kms:*CustomKeyStore*` covers only actions that have no effect in a key policy",
        ),
    ],
)
text = policy_text(kst(Action=None, Resource=None))
case(
    "key-policy-inert-statement",
    "key-policy",
    text,
    [
        (
            stmt_at(1),
            "warning",
            "statement has no `Action` or `NotAction`: KMS accepts it, but it never applies",
        ),
        (
            stmt_at(1),
            "warning",
            "statement has no `Resource` or `NotResource`: KMS accepts it, but it never applies",
        ),
    ],
)
text = policy_text(ist(Action=None, Resource=None))
case(
    "identity-missing-action-resource",
    "identity-policy",
    text,
    [
        (stmt_at(1), "error", "statement has no `Action` or `NotAction`"),
        (stmt_at(1), "error", "statement has no `Resource` or `NotResource`"),
    ],
)

# -- resources ----------------------------------------------------------------

text = policy_text(kst(Resource=KEY_ARN), kst(Resource=None, NotResource="key/1"))
case(
    "key-policy-resources",
    "key-policy",
    text,
    [
        (
            stmt_at(1),
            "warning",
            f'key policy `Resource` `{KEY_ARN}` is not `"*"`: in a key policy `"*"` means this key, and other values may match nothing',
        ),
        (
            stmt_at(2),
            "warning",
            '`NotResource` in a key policy: the only resource is this key; write `"Resource": "*"`',
        ),
        (
            stmt_at(2),
            "error",
            "`key/1` is not a resource ARN: expected `*` or `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`",
        ),
    ],
)
VAR_ARN = "arn:aws:kms:us-east-1:${aws:PrincipalAccount}:key/*"
text = policy_text(
    ist(Resource=[VAR_ARN, "arn:aws:kms:us-east-1:111122223333:key/${aws:PrincipalTag/k}"])
)
case(
    "resource-variables",
    "identity-policy",
    text,
    [
        (
            stmt_at(1),
            "warning",
            f"`{VAR_ARN}`: policy variables are substituted only in the resource part of an ARN, so this entry matches nothing",
        )
    ],
)
LIT = "arn:aws:kms:us-east-1:111122223333:key/${aws:username}"
text = policy_text(
    ist(Resource=LIT, Condition={"StringEquals": {"aws:PrincipalTag/t": "${aws:username}"}}),
    version="2008-10-17",
)
case(
    "version-2008-variables",
    "identity-policy",
    text,
    [
        (
            stmt_at(1),
            "warning",
            f'`{LIT}` holds a policy variable, but under `"Version": "2008-10-17"` it is literal text',
        ),
        (
            value_at(text, "aws:PrincipalTag/t"),
            "warning",
            '`${aws:username}` holds a policy variable, but under `"Version": "2008-10-17"` it is literal text',
        ),
    ],
)

# -- Sids ---------------------------------------------------------------------

text = policy_text(ist(Sid="Allow-Decrypt"), ist(Sid="A"), ist(Sid="A"))
case(
    "identity-sids",
    "identity-policy",
    text,
    [
        (
            stmt_at(1),
            "error",
            "`Sid` `Allow-Decrypt`: in an identity policy a `Sid` may hold only ASCII letters and digits",
        ),
        (stmt_at(3), "error", "duplicate `Sid` `A` (first at line 3, column 1)"),
    ],
)
text = policy_text(ist(Sid="no spaces"))
case(
    "scp-sid",
    "scp",
    text,
    [
        (
            stmt_at(1),
            "error",
            "`Sid` `no spaces`: in an SCP a `Sid` may hold only ASCII letters and digits",
        )
    ],
)
text = policy_text(kst(Sid="Allow use"), kst(Sid="Allow use"))
case(
    "key-policy-duplicate-sid",
    "key-policy",
    text,
    [(stmt_at(2), "warning", "duplicate `Sid` `Allow use` (first at line 2, column 1)")],
)

# -- conditions ---------------------------------------------------------------


def cond_case(
    name: str, kind: str, block: dict[str, Any], expected: list[tuple[Any, str, str]]
) -> None:
    """expected: (condition key whose value is the position, or (key, nth), severity, message)."""
    text = policy_text(kst(Condition=block) if kind != "identity-policy" else ist(Condition=block))
    rows = []
    for where, sev, msg in expected:
        key, nth = where if isinstance(where, tuple) else (where, 1)
        rows.append((value_at(text, key, nth), sev, msg))
    case(f"condition-{name}", kind, text, rows)


cond_case(
    "keys",
    "key-policy",
    {
        "StringEquals": {
            "kms:CallerAcount": "1",
            "kms:EncryptionContex:dept": "x",
            "kms:EncryptionContext:": "x",
            "kms:EncryptionContext:${aws:username}": "x",
            "kms:ResourceAliases": "alias/a",
            "KMS:VIASERVICE": "s3.us-east-1.amazonaws.com",
        }
    },
    [
        (
            "kms:CallerAcount",
            "warning",
            "unknown KMS condition key `kms:CallerAcount` (did you mean `kms:CallerAccount`?)",
        ),
        (
            "kms:EncryptionContex:dept",
            "warning",
            "unknown KMS condition key `kms:EncryptionContex:dept` (did you mean `kms:EncryptionContext:dept`?)",
        ),
        (
            "kms:EncryptionContext:",
            "error",
            "`kms:EncryptionContext:` needs an encryption context key after `kms:EncryptionContext:`",
        ),
        (
            "kms:EncryptionContext:${aws:username}",
            "warning",
            "policy variables are not substituted in condition key names: `kms:EncryptionContext:${aws:username}`",
        ),
        (
            "kms:ResourceAliases",
            "warning",
            "`kms:ResourceAliases` is available only in IAM policies: in a key policy it is always absent",
        ),
        (
            "kms:ResourceAliases",
            "warning",
            "`kms:ResourceAliases` is multi-valued: use `ForAnyValue:` or `ForAllValues:`; "
            "kmsprove reads `StringEquals` as `ForAnyValue:StringEquals`",
        ),
    ],
)
FAV = "`ForAllValues` on `{k}` also holds when the key is absent: KMS rejects it in key policies (OverlyPermissiveCondition)"
cond_case(
    "for-all-values-key-policy",
    "key-policy",
    {"ForAllValues:StringEquals": {"kms:EncryptionContext:dept": "IT", "aws:RequestTag/team": "a"}},
    [
        ("kms:EncryptionContext:dept", "error", FAV.format(k="kms:EncryptionContext:dept")),
        ("aws:RequestTag/team", "error", FAV.format(k="aws:RequestTag/team")),
    ],
)
cond_case(
    "for-all-values-identity",
    "identity-policy",
    {"ForAllValues:StringEquals": {"kms:EncryptionContext:dept": "IT"}},
    [("kms:EncryptionContext:dept", "warning", FAV.format(k="kms:EncryptionContext:dept"))],
)
cond_case(
    "set-operators",
    "identity-policy",
    {
        "ForAnyValue:StringEquals": {"kms:CallerAccount": "111122223333"},
        "StringLike": {"aws:CalledVia": "s3.amazonaws.com"},
    },
    [
        (
            "kms:CallerAccount",
            "warning",
            "set operator `ForAnyValue` on single-valued key `kms:CallerAccount`: use `StringEquals`",
        ),
        (
            "aws:CalledVia",
            "warning",
            "`aws:CalledVia` is multi-valued: use `ForAnyValue:` or `ForAllValues:`; kmsprove reads `StringLike` as `ForAnyValue:StringLike`",
        ),
    ],
)
cond_case(
    "types",
    "identity-policy",
    {
        "Bool": {"aws:SecureTransport": "yes"},
        "Null": {"kms:CallerAccount": "absent"},
        "NumericLessThan": {"kms:ScheduleKeyDeletionPendingWindowInDays": "seven"},
        "DateGreaterThan": {"aws:CurrentTime": "2026-13-01"},
        "IpAddress": {"aws:SourceIp": "203.0.113.999"},
        "BinaryEquals": {"kms:RecipientAttestation:ImageSha384": "not base64!"},
        "ArnLike": {"aws:SourceArn": "trail"},
        "NumericEquals": {"kms:RotationPeriodInDays": "${aws:username}"},
    },
    [
        ("aws:SecureTransport", "error", "`Bool` values must be `true` or `false`, not `yes`"),
        ("kms:CallerAccount", "error", "`Null` values must be `true` or `false`, not `absent`"),
        (
            "kms:ScheduleKeyDeletionPendingWindowInDays",
            "error",
            "`seven` is not a number (`NumericLessThan` compares numbers)",
        ),
        (
            "aws:CurrentTime",
            "error",
            "`2026-13-01` is not a date: use ISO 8601 (`2026-01-31T12:00:00Z`) or epoch seconds",
        ),
        ("aws:SourceIp", "error", "`203.0.113.999` is not an IP address or CIDR block"),
        (
            "kms:RecipientAttestation:ImageSha384",
            "error",
            "`not base64!` is not base64 (`BinaryEquals` compares base64)",
        ),
        (
            "aws:SourceArn",
            "warning",
            "`trail` is not an ARN: `ArnLike` compares the six `:`-separated fields of ARNs, so it never matches",
        ),
        (
            "kms:RotationPeriodInDays",
            "error",
            "policy variables are not allowed in `NumericEquals` values: `${aws:username}`",
        ),
    ],
)
cond_case(
    "grant-operations",
    "key-policy",
    {
        "ForAllValues:StringEquals": {"kms:GrantOperations": ["Decrypt", "Decryptt"]},
        "ForAnyValue:StringLike": {"kms:GrantOperations": ["Revoke*", "generate*"]},
    },
    [
        (
            "kms:GrantOperations",
            "error",
            "`Decryptt` is not a grant operation (did you mean `Decrypt`?)",
        ),
        (("kms:GrantOperations", 2), "error", "`Revoke*` matches no grant operation"),
        (
            ("kms:GrantOperations", 2),
            "error",
            "`generate*` matches no grant operation (values are case-sensitive)",
        ),
    ],
)


# -- sizes ----------------------------------------------------------------------

text = policy_text(kst())
padded = text + " " * (32_769 - len(text))
case(
    "key-policy-size",
    "key-policy",
    padded,
    [(":1:1", "error", "key policy is 32,769 bytes, more than the 32,768 KMS accepts")],
)
case("key-policy-size-at-limit", "key-policy", padded[:-1], [])
for chars, tail in [
    (2_049, "more than an inline user policy may hold (2,048)"),
    (6_145, "more than a managed policy (6,144) or an inline user policy (2,048) may hold"),
    (
        10_241,
        "more than any identity policy may hold (inline role 10,240, managed 6,144, inline user 2,048)",
    ),
]:
    base = policy_text(ist(Sid=""))
    text = policy_text(ist(Sid="A" * (chars - len("".join(base.split())))))
    case(
        f"identity-size-{chars}",
        "identity-policy",
        text,
        [
            (
                ":1:1",
                "warning",
                f"identity policy has {chars:,} characters without whitespace, {tail}",
            )
        ],
    )
text = policy_text(ist(Sid="A" * 5_200))
case(
    "scp-size",
    "scp",
    text,
    [
        (
            ":1:1",
            "error",
            f"an SCP holds at most 5,120 characters; this one has {len(''.join(text.split())):,}",
        )
    ],
)
text = policy_text(
    {"Sid": "A" * 5_200, "Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*"}
)
case(
    "rcp-size",
    "rcp",
    text,
    [
        (
            ":1:1",
            "error",
            f"an RCP holds at most 5,120 characters; this one has {len(''.join(text.split())):,}",
        )
    ],
)
text = policy_text(*[{**bucket_st, "Sid": f"S{i}"} for i in range(160)])
case(
    "bucket-size",
    "bucket-policy",
    text,
    [
        (
            ":1:1",
            "error",
            f"a bucket policy holds at most 20 KB; this one has {len(''.join(text.split())):,} characters",
        )
    ],
)

# -- get-key-policy output ------------------------------------------------------

inner = policy_text(kst(Principal={"AWS": "x"}))
text = json.dumps({"Policy": inner, "PolicyName": "default"})
case(
    "get-key-policy",
    None,
    text,
    [("#Policy" + at(inner, '"x"'), "error", f"`x` is not a valid principal: {FORMS}")],
)
broken = inner.removesuffix("\n]}\n") + ",\n]}"
text = json.dumps({"Policy": broken, "Polcy": 1})
case(
    "get-key-policy-bad",
    "key-policy",
    text,
    [
        (
            at(text, '"Polcy"'),
            "error",
            "unknown get-key-policy output field `Polcy` (did you mean `Policy`?)",
        ),
        (
            "#Policy" + at(broken, "]}"),
            "error",
            "trailing comma: JSON allows no `,` before a closing bracket",
        ),
    ],
)
text = '{"Policy": {"Statement": []}}'
case(
    "get-key-policy-not-string",
    "key-policy",
    text,
    [(":1:12", "error", "`Policy` must be a string holding the key policy, not an object")],
)


@pytest.mark.parametrize(("kind", "file", "text", "expected"), CASES)
def test_every_message(
    tmp_path: Path, kind: str | None, file: str, text: str, expected: Expected
) -> None:
    check(tmp_path, kind, file, text, expected)


def test_messages_are_sorted_by_position(tmp_path: Path) -> None:
    text = policy_text(
        kst(Action="kms:Nope"), kst(Principal={"AWS": "x"}), kst(Action="kms:AlsoNope")
    )
    path = tmp_path / "p.json"
    path.write_text(text)
    result = run_validate(tmp_path, str(path))
    positions = [tuple(int(n) for n in line.split(":")[1:3]) for line in result.stderr.splitlines()]
    assert len(positions) == 3
    assert positions == sorted(positions)
    assert result.exit_code == 2


def test_several_files_are_all_checked(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(policy_text(kst()))
    broken = tmp_path / "broken.json"
    broken.write_text("{,}")
    warned = tmp_path / "warned.json"
    warned.write_text(policy_text(kst(Action="kms:Nope")))
    result = run_validate(tmp_path, str(good), str(broken), str(warned))
    assert result.stderr.splitlines() == [
        f"{broken}:1:2: error: unexpected `,`",
        f"{warned}:2:1: warning: action `kms:Nope` does not exist",
    ]
    assert result.exit_code == 2


def test_warnings_only_exit_zero_and_clean_files_say_valid(tmp_path: Path) -> None:
    a = tmp_path / "a.json"
    a.write_text(policy_text(kst()))
    result = run_validate(tmp_path, str(a))
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == "1 file(s) valid\n"


def test_json_format(tmp_path: Path) -> None:
    a = tmp_path / "a.json"
    a.write_text(policy_text(kst(Principal={"AWS": "x"})))
    result = run_validate(tmp_path, "--format", "json", str(a))
    payload = json.loads(result.stdout)
    assert payload["valid"] is False
    assert payload["diagnostics"] == [
        {
            "file": str(a),
            "line": 2,
            "col": int(at(a.read_text(), '"x"').split(":")[2]),
            "severity": "error",
            "message": f"`x` is not a valid principal: {FORMS}",
        }
    ]
    assert result.exit_code == 2

"""`kmsprove validate` on grant lists and world files: every message, exact lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_validate import Expected, check
from tests.support.builders import at, grants_text, policy_text, stmt_at, value_at
from tests.support.cli import run_validate

KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:us-east-1:111122223333:key/{KEY_ID}"
ROLE = "arn:aws:iam::111122223333:role/app"
ROOT = "arn:aws:iam::111122223333:root"
TRAIL = "arn:aws:cloudtrail:us-east-1:111122223333:trail/t"
GRANT_FORMS = (
    "expected an account, user, role, assumed-role or federated-user ARN, "
    "or a user's or role's unique id (`AIDA...`, `AROA...`)"
)

CASES: list[Any] = []


def grant(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"KeyId": KEY_ARN, "GranteePrincipal": ROLE, "Operations": ["Decrypt"]}
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def gcase(
    name: str,
    grants: list[dict[str, Any] | str],
    expected: list[tuple[int, str, str]],
    kind: str | None = "grants",
) -> None:
    """expected: (grant number whose start is the position, severity, message)."""
    text = grants_text(*grants)
    CASES.append(
        pytest.param(kind, text, [(stmt_at(n), sev, msg) for n, sev, msg in expected], id=name)
    )


def tcase(name: str, text: str, expected: Expected, kind: str | None = "grants") -> None:
    CASES.append(pytest.param(kind, text, expected, id=name))


gcase(
    "good",
    [
        grant(GrantId="g1"),
        grant(GrantId="g2", KeyId=KEY_ID, RetiringPrincipal=ROOT, IssuingAccount=ROOT),
    ],
    [],
    kind=None,
)
gcase(
    "operations",
    [
        grant(Operations=[]),
        grant(Operations=None),
        grant(Operations=["Decrypt", "decrypt", "ListGrants"]),
    ],
    [
        (1, "error", "grant has no operations: `Operations` must list at least one"),
        (2, "error", "grant has no operations: `Operations` must list at least one"),
        (3, "error", "`decrypt` is not a grant operation (did you mean `Decrypt`?)"),
        (3, "error", "`ListGrants` is not a grant operation"),
    ],
)
gcase(
    "key-ids",
    [grant(KeyId=None), grant(KeyId="alias/app"), grant(KeyId="key/1")],
    [
        (1, "warning", "grant has no `KeyId`: which key it is for is unknown"),
        (2, "error", "grant `KeyId` `alias/app` is an alias: grants are bound to a key"),
        (3, "error", "grant `KeyId` `key/1` is not a key ARN or key id"),
    ],
)
gcase(
    "grantees",
    [
        grant(
            GranteeServicePrincipal="cloudtrail.amazonaws.com",
            RetiringPrincipal=ROOT,
            RetiringServicePrincipal="cloudtrail.amazonaws.com",
            Constraints={"SourceArn": TRAIL},
        ),
        grant(GranteePrincipal=None, GranteeServicePrincipal="cloudtrail.amazonaws.com"),
        grant(GranteePrincipal="rds.us-east-1.amazonaws.com"),
        grant(GranteePrincipal="111122223333", RetiringPrincipal="arn:aws:iam::12:root"),
        grant(
            GranteePrincipal=None,
            GranteeServicePrincipal="cloudtrail",
            RetiringServicePrincipal="a*.amazonaws.com",
            Constraints={"SourceArn": TRAIL},
        ),
    ],
    [
        (1, "error", "a grant has `GranteePrincipal` or `GranteeServicePrincipal`, not both"),
        (1, "error", "a grant has `RetiringPrincipal` or `RetiringServicePrincipal`, not both"),
        (2, "error", "a grant to a `GranteeServicePrincipal` needs a `SourceArn` constraint"),
        (
            2,
            "error",
            "a grant to a `GranteeServicePrincipal` needs a `RetiringPrincipal` or `RetiringServicePrincipal`",
        ),
        (
            3,
            "warning",
            "grantee `rds.us-east-1.amazonaws.com` is a service principal: AWS does not say which principals "
            "such a grant covers, so kmsprove treats its grantees as unknown",
        ),
        (4, "error", f"`GranteePrincipal` `111122223333` is not a valid principal: {GRANT_FORMS}"),
        (
            4,
            "error",
            "`RetiringPrincipal` `arn:aws:iam::12:root`: account `12` is not a 12-digit account id",
        ),
        (
            5,
            "error",
            "`cloudtrail` is not a service principal name (such as `cloudtrail.amazonaws.com`)",
        ),
        (
            5,
            "error",
            "wildcard in `RetiringServicePrincipal` `a*.amazonaws.com`: service principals are exact names",
        ),
    ],
)
gcase(
    "constraints",
    [
        grant(Constraints={"EncryptionContextSubset": {f"k{i}": "v" for i in range(9)}}),
        grant(Constraints={"EncryptionContextEquals": {"k": "v" * 385}, "SourceArn": "trail"}),
        grant(IssuingAccount="arn:aws:iam::1234:root"),
    ],
    [
        (1, "error", "`EncryptionContextSubset` has 9 pairs; a grant constraint holds at most 8"),
        (
            2,
            "error",
            "`EncryptionContextEquals` value for `k` has 385 characters; at most 384 are allowed",
        ),
        (2, "error", "`SourceArn` `trail` is not an ARN"),
        (3, "error", "`IssuingAccount` `1234` is not an account id or `arn:aws:iam::ACCOUNT:root`"),
    ],
)
gcase(
    "duplicate-grant-id",
    [grant(GrantId="g1"), grant(GrantId="g2"), grant(GrantId="g1")],
    [(3, "error", "grant id `g1` appears twice (first at line 2, column 1)")],
)
# structure (kmsprove/syntax/policy.py)
text = grants_text(
    '"g"',
    grant(Operations=None, Operation=["Decrypt"], GranteePrincipal=7),
    grant(Operations="Decrypt", Constraints=[]),
    grant(Operations=[1], Constraints={"EncryptionContext": {}, "SourceArn": 5}),
    grant(Constraints={"EncryptionContextSubset": [], "EncryptionContextEquals": {"a": 1}}),
    grant(
        Constraints={"EncryptionContextSubset": {"a": "b"}, "EncryptionContextEquals": {"a": "b"}}
    ),
    grant(Operations={"Decrypt": True}),
)
tcase(
    "grant-structure",
    text,
    [
        (stmt_at(1), "error", "a grant must be a JSON object, not a string"),
        (
            at(text, '"Operation"'),
            "error",
            "unknown grant field `Operation` (did you mean `Operations`?)",
        ),
        (stmt_at(2), "error", "grant has no operations: `Operations` must list at least one"),
        (
            value_at(text, "GranteePrincipal"),
            "error",
            "`GranteePrincipal` must be a string, not a number",
        ),
        (stmt_at(2), "error", "grant has no `GranteePrincipal` or `GranteeServicePrincipal`"),
        (
            value_at(text, "Constraints", 1),
            "error",
            "`Constraints` must be an object, not an array",
        ),
        (
            at(text, "1]", after='"Operations": ['),
            "error",
            "`Operations` entries must be strings, not a number",
        ),
        (stmt_at(4), "error", "grant has no operations: `Operations` must list at least one"),
        (
            at(text, '"EncryptionContext"'),
            "error",
            "unknown grant constraint `EncryptionContext` (did you mean `EncryptionContextSubset`?)",
        ),
        (value_at(text, "SourceArn"), "error", "`SourceArn` must be a string, not a number"),
        (
            value_at(text, "EncryptionContextSubset"),
            "error",
            "`EncryptionContextSubset` must be an object of string pairs, not an array",
        ),
        (
            at(text, "1}", after='"EncryptionContextEquals": {"a": '),
            "error",
            "encryption context values must be strings, not a number",
        ),
        (
            value_at(text, "Constraints", 4),
            "error",
            "a grant can have `EncryptionContextSubset` or `EncryptionContextEquals`, not both",
        ),
        (
            value_at(text, "Operations", 5),
            "error",
            "`Operations` must be a string or an array of strings, not an object",
        ),
        (stmt_at(7), "error", "grant has no operations: `Operations` must list at least one"),
    ],
)
# list-grants output
text = json.dumps({"Grants": [grant()], "Truncated": True, "NextMarker": "m", "Markr": 1})
tcase(
    "list-grants-output",
    text,
    [
        (
            value_at(text, "Truncated"),
            "warning",
            "list-grants output is truncated: the grants after `NextMarker` are missing",
        ),
        (
            at(text, '"Markr"'),
            "error",
            "unknown list-grants output field `Markr` (did you mean `NextMarker`?)",
        ),
    ],
    kind=None,
)
tcase(
    "list-grants-not-array",
    '{"Grants": {}}',
    [(":1:12", "error", "`Grants` must be an array, not an object")],
)
tcase(
    "grants-kind-without-grants",
    '{"Statement": []}',
    [
        (
            ":1:1",
            "error",
            'expected a list of grants or `aws kms list-grants` output (`{"Grants": [...]}`)',
        )
    ],
)


@pytest.mark.parametrize(("kind", "text", "expected"), CASES)
def test_grant_files(tmp_path: Path, kind: str | None, text: str, expected: Expected) -> None:
    check(tmp_path, kind, "grants.json", text, expected)


# -- world files ----------------------------------------------------------------

EXTERNAL = "arn:aws:iam::444455556666:root"
MRK = "arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab"
ASYM = "arn:aws:kms:us-east-1:111122223333:key/0000abcd-12ab-34cd-56ef-1234567890ab"
MANAGED = "arn:aws:kms:us-east-1:111122223333:key/1111abcd-12ab-34cd-56ef-1234567890ab"


def kp(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


ALLOW_ROOT = {"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:*", "Resource": "*"}


def world_text() -> str:
    """One line per key, grant, account and bucket, so positions are easy to find."""
    keys = [
        (
            {
                "arn": KEY_ARN,
                "policy": kp(
                    ALLOW_ROOT,
                    {
                        **ALLOW_ROOT,
                        "Principal": {"AWS": EXTERNAL},
                        "Action": ["kms:Decrypt", "kms:PutKeyPolicy"],
                    },
                ),
            },
            [
                {
                    "GrantId": "g-other",
                    "KeyId": MRK,
                    "GranteePrincipal": ROLE,
                    "Operations": ["Decrypt"],
                },
                {"GrantId": "g-unfit", "GranteePrincipal": ROLE, "Operations": ["Sign", "Decrpyt"]},
            ],
        ),
        (
            {
                "arn": ASYM,
                "key_spec": "RSA_2048",
                "key_usage": "SIGN_VERIFY",
                "policy": kp(ALLOW_ROOT),
            },
            [
                {
                    "GrantId": "g-ec",
                    "GranteePrincipal": ROLE,
                    "Operations": ["Sign"],
                    "Constraints": {"EncryptionContextSubset": {"a": "b"}},
                }
            ],
        ),
        ({"arn": MRK, "key_usage": "ENCRYPT", "policy": kp(ALLOW_ROOT)}, []),
        (
            {
                "arn": MANAGED,
                "manager": "AWS",
                "multi_region": True,
                "aliases": ["alias/app"],
                "key_spec": "HMAC_256",
                "policy": kp(ALLOW_ROOT),
            },
            [],
        ),
    ]
    lines = ['{"version": 1,', '"keys": [']
    for i, (k, grants) in enumerate(keys):
        body = json.dumps(k)[:-1]
        sep = "," if i < len(keys) - 1 else ""
        if grants:
            lines.append(body + ', "grants": [')
            lines.append(",\n".join(json.dumps(g) for g in grants))
            lines.append("]}" + sep)
        else:
            lines.append(body + "}" + sep)
    trust = kp(
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Resource": "*",
        }
    )
    account = {
        "complete": True,
        "import": "auth.json",
        "principals": {
            "arn:aws:iam::111122223333:role/web": {"trust_policy": trust},
            "arn:aws:iam::111122223333:role/batch": {
                "trust_policy": kp({"Effect": "Allow", "Action": "sts:AssumeRole"})
            },
        },
    }
    lines.append("],")
    lines.append('"accounts": {"111122223333": ' + json.dumps(account) + "},")
    lines.append(
        '"vpc_endpoints": {"vpce-1": '
        + json.dumps(kp({"Effect": "Deny", "Action": "kms:*", "Resource": "*"}))
        + "},"
    )
    lines.append('"buckets": [')
    buckets = [
        {
            "arn": "arn:aws:s3:::alias-bucket",
            "account": "111122223333",
            "region": "us-east-1",
            "kms_key": "alias/app",
        },
        {
            "arn": "arn:aws:s3:::west-bucket",
            "account": "111122223333",
            "region": "us-west-2",
            "kms_key": KEY_ARN,
        },
        {
            "arn": "arn:aws:s3:::asym-bucket",
            "account": "111122223333",
            "region": "us-east-1",
            "kms_key": ASYM,
        },
    ]
    lines.append(",\n".join(json.dumps(b) for b in buckets))
    lines.append("]}")
    return "\n".join(lines) + "\n"


AUTH = {
    "UserDetailList": [],
    "GroupDetailList": [],
    "RoleDetailList": [
        {
            "Arn": "arn:aws:iam::111122223333:role/app",
            "RoleName": "app",
            "RolePolicyList": [],
            "AttachedManagedPolicies": [{"PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}],
        }
    ],
    "Policies": [],
}


def test_world_file(tmp_path: Path) -> None:
    text = world_text()
    world = tmp_path / "world.json"
    world.write_text(text)
    auth = tmp_path / "auth.json"
    auth_text = json.dumps(AUTH, indent=1)
    auth.write_text(auth_text)
    result = run_validate(tmp_path, str(world))  # guessed from `version`
    assert result.exit_code == 2

    def key_pos(arn: str) -> str:
        return at(text, '{"arn": ' + json.dumps(arn))

    def grant_pos(gid: str) -> str:
        return at(text, '{"GrantId": ' + json.dumps(gid))

    def bucket_pos(name: str) -> str:
        return at(text, '{"arn": "arn:aws:s3:::' + name)

    expected = [
        (
            grant_pos("g-other"),
            "error",
            f"grant `g-other` is for key `{MRK}`, not this key `{KEY_ARN}`",
        ),
        (
            grant_pos("g-unfit"),
            "error",
            f"grant operation `Sign` does not fit key `{KEY_ARN}` (SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT): KMS rejects such grants",
        ),
        (
            grant_pos("g-unfit"),
            "error",
            "`Decrpyt` is not a grant operation (did you mean `Decrypt`?)",
        ),
        (
            at(text, json.dumps(EXTERNAL)),
            "warning",
            f"`kms:PutKeyPolicy` does not work across accounts: inert for `{EXTERNAL}` (key account 111122223333)",
        ),
        (
            grant_pos("g-ec"),
            "warning",
            f"grant `g-ec` has an encryption context constraint, but key `{ASYM}` is not a symmetric encryption key: KMS does not apply it",
        ),
        (key_pos(MRK), "warning", "unknown key usage `ENCRYPT` (did you mean `ENCRYPT_DECRYPT`?)"),
        (
            key_pos(MRK),
            "warning",
            "key id `mrk-1234abcd12ab34cd56ef1234567890ab` and `multi_region` false disagree: multi-Region key ids start with `mrk-`",
        ),
        (
            key_pos(MANAGED),
            "warning",
            "key spec `HMAC_256` cannot have key usage `ENCRYPT_DECRYPT`",
        ),
        (
            key_pos(MANAGED),
            "warning",
            "key id `1111abcd-12ab-34cd-56ef-1234567890ab` and `multi_region` true disagree: multi-Region key ids start with `mrk-`",
        ),
        (
            key_pos(MANAGED),
            "warning",
            "an AWS managed key is single-Region, but `multi_region` is true",
        ),
        (
            key_pos(MANAGED),
            "warning",
            "alias `alias/app` of an AWS managed key does not start with `alias/aws/`",
        ),
        (
            at(text, '{"Effect": "Allow", "Principal": {"Service"'),
            "error",
            "a trust policy cannot have `Resource`",
        ),
        (
            at(text, '{"Effect": "Deny", "Action"'),
            "error",
            "statement has no `Principal`: every statement of a VPC endpoint policy names one",
        ),
        (
            at(text, '{"Effect": "Allow", "Action": "sts:AssumeRole"}'),
            "error",
            "statement has no `Principal`: every statement of a trust policy names one",
        ),
        (
            bucket_pos("alias-bucket"),
            "warning",
            "bucket default key `alias/app` is not a key ARN: kmsprove treats the key as unknown",
        ),
        (
            bucket_pos("west-bucket"),
            "warning",
            "bucket `west-bucket` is in us-west-2 but its default key is in us-east-1: S3 cannot use it",
        ),
        (
            bucket_pos("asym-bucket"),
            "warning",
            f"bucket default key `{ASYM}` is not a symmetric encryption key: S3 cannot use it",
        ),
    ]
    lines = result.stderr.splitlines()
    for pos, sev, msg in expected:
        assert f"{world}{pos}: {sev}: {msg}" in lines
    role_pos = at(auth_text, "{", after='"RoleDetailList": [')
    assert (
        f"{auth}{role_pos}: warning: `arn:aws:iam::aws:policy/ReadOnlyAccess` is attached to `{ROLE}` "
        "but its document was not supplied: answers that depend on it are incomplete"
    ) in lines
    # each problem once (the loader's own key-id check and ours agree word for word)
    assert len(lines) == len(set(lines))


def test_world_kind_on_a_missing_file(tmp_path: Path) -> None:
    result = run_validate(tmp_path, "--kind", "world", str(tmp_path / "nope.json"))
    assert result.stderr.splitlines() == [f"{tmp_path / 'nope.json'}:1:1: error: no such file"]
    assert result.exit_code == 2


def test_valid_world_exits_zero(tmp_path: Path) -> None:
    world = tmp_path / "world.json"
    world.write_text(
        json.dumps({"version": 1, "keys": [{"arn": KEY_ARN, "policy": kp(ALLOW_ROOT)}]})
    )
    result = run_validate(tmp_path, "--kind", "world", str(world))
    assert (result.exit_code, result.stderr) == (0, "")


def test_policy_statement_positions_in_worlds(tmp_path: Path) -> None:
    # a key policy given as a separate file keeps that file's positions
    (tmp_path / "kp.json").write_text(policy_text({**ALLOW_ROOT, "Principal": {"AWS": "x"}}))
    world = tmp_path / "world.json"
    world.write_text(json.dumps({"version": 1, "keys": [{"arn": KEY_ARN, "policy": "kp.json"}]}))
    result = run_validate(tmp_path, str(world))
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"{tmp_path / 'kp.json'}:2:") and "`x` is not a valid principal" in line

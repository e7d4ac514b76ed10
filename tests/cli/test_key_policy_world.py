"""A bare key policy (or `aws kms get-key-policy` output) given as WORLD to `query`,
`explain` and `check` is a world of one key with that policy, every account open: the
key is `--key-arn`, else the sole account root its Allow statements name on a
placeholder Region and key id (a positioned warning, and the answer says so), else an
error asking for `--key-arn`. Other documents given as WORLD say what they are.

The documents are AWS's own examples: the default key policy of the AWS KMS Developer
Guide ("Default key policy", statement "Enable IAM User Permissions",
https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html), the
`aws kms get-key-policy` output shape of the AWS CLI reference (`{"Policy": "<json
text>", "PolicyName": "default"}`, the text as KMS returns it, `"Version" : ...`), the
cross-account statement of "Allowing users in other accounts to use a KMS key"
(key-policy-modifying-external-accounts.html) and an identity policy of the Developer
Guide's "IAM policy examples" (customer-managed-policies.html).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kmsprove.cli import main

A, B = "111122223333", "444455556666"
ROOT_A = f"arn:aws:iam::{A}:root"
PLACEHOLDER = f"arn:aws:kms:us-east-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ASSUMED = (
    f"the key is {PLACEHOLDER}: the account of the key policy's root principal, a"
    " placeholder Region and key id (give --key-arn for the real key)"
)
REAL_KEY = f"arn:aws:kms:us-west-2:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OUTSIDE = f"can any principal outside account {A} kms:Decrypt"
ROOT_DECRYPTS = f"can principal {ROOT_A} kms:Decrypt"

ENABLE_IAM = {
    "Sid": "Enable IAM User Permissions",
    "Effect": "Allow",
    "Principal": {"AWS": ROOT_A},
    "Action": "kms:*",
    "Resource": "*",
}
DEFAULT_POLICY = {"Version": "2012-10-17", "Id": "key-default-1", "Statement": [ENABLE_IAM]}
# the Developer Guide's "Allowing users in other accounts to use a KMS key" statement
EXTERNAL_USE = {
    "Sid": "Allow an external account to use this KMS key",
    "Effect": "Allow",
    "Principal": {"AWS": [f"arn:aws:iam::{B}:root"]},
    "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"],
    "Resource": "*",
}
# get-key-policy returns the policy as KMS stores it: its own JSON spacing
GET_KEY_POLICY_TEXT = (
    '{\n  "Version" : "2012-10-17",\n  "Id" : "key-default-1",\n  "Statement" : [ {\n'
    '    "Sid" : "Enable IAM User Permissions",\n    "Effect" : "Allow",\n'
    f'    "Principal" : {{\n      "AWS" : "{ROOT_A}"\n    }},\n'
    '    "Action" : "kms:*",\n    "Resource" : "*"\n  } ]\n}'
)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.stdout, result.stderr


def write(tmp: Path, name: str, doc: object, indent: int = 4) -> str:
    path = tmp / name
    path.write_text(json.dumps(doc, indent=indent) + "\n")
    return str(path)


def position_of(path: str, needle: str) -> str:
    """`FILE:LINE:COL` of the first occurrence of `needle` in the file."""
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        if needle in line:
            return f"{path}:{n}:{line.index(needle) + 1}"
    raise AssertionError(f"{needle} not in {path}")


# --------------------------------------------------------------------------
# the default key policy: the key's account from its root principal


def test_the_default_key_policy_is_a_world_on_its_root_accounts_placeholder_key(
    tmp_path: Path,
) -> None:
    policy = write(tmp_path, "key-policy.json", DEFAULT_POLICY)
    code, out, err = run("query", policy, OUTSIDE)
    assert code == 0
    assert out.startswith(f"no (key {PLACEHOLDER})\n")
    assert f"\n  input assumed: {ASSUMED}\n" in out
    # the warning points at the principal the account was taken from
    where = position_of(policy, f'"{ROOT_A}"')
    assert err == (
        f"{where}: warning: the key's account is taken from this principal: {A}; its Region"
        f" and key id are placeholders (`{PLACEHOLDER}`): give --key-arn for the real key\n"
    )


def test_inside_the_account_the_default_policy_lets_the_root_user_decrypt(
    tmp_path: Path,
) -> None:
    policy = write(tmp_path, "key-policy.json", DEFAULT_POLICY)
    code, out, _ = run("query", policy, ROOT_DECRYPTS)
    assert code == 0 and out.startswith(f"yes (key {PLACEHOLDER})\n")
    # the printed command names the key it placed the policy on (conftest runs it)
    [line] = [ln for ln in out.splitlines() if "reproduce:" in ln]
    assert line.strip().startswith(f"reproduce: kmsprove explain {policy} --key-arn {PLACEHOLDER} ")


def test_a_bare_account_id_names_the_root_too(tmp_path: Path) -> None:
    bare = {**ENABLE_IAM, "Principal": {"AWS": A}}
    policy = write(tmp_path, "key-policy.json", {"Version": "2012-10-17", "Statement": [bare]})
    code, out, err = run("query", policy, OUTSIDE)
    assert code == 0 and out.startswith(f"no (key {PLACEHOLDER})")
    where = position_of(policy, f'"{A}"')
    assert err.startswith(f"{where}: warning: ")


def test_a_root_in_the_china_partition_gets_a_china_region(tmp_path: Path) -> None:
    root = {**ENABLE_IAM, "Principal": {"AWS": f"arn:aws-cn:iam::{A}:root"}}
    policy = write(tmp_path, "key-policy.json", {"Version": "2012-10-17", "Statement": [root]})
    code, out, _ = run("query", policy, OUTSIDE)
    assert code == 0
    assert out.startswith(f"no (key arn:aws-cn:kms:cn-north-1:{A}:key/1234abcd-12ab-")


def test_get_key_policy_output_is_read_as_its_policy(tmp_path: Path) -> None:
    output = write(
        tmp_path, "get-key-policy.json", {"Policy": GET_KEY_POLICY_TEXT, "PolicyName": "default"}
    )
    code, out, err = run("query", output, ROOT_DECRYPTS)
    assert code == 0 and out.startswith(f"yes (key {PLACEHOLDER})\n")
    assert f"key-policy: Allow Sid `Enable IAM User Permissions` at {output}#Policy:" in out
    # positioned inside the policy text: line 8 of it, at the ARN's opening quote
    col = GET_KEY_POLICY_TEXT.splitlines()[7].index(f'"{ROOT_A}"') + 1
    assert err.startswith(f"{output}#Policy:8:{col}: warning: the key's account is taken")
    assert f"--key-arn {PLACEHOLDER}" in out


def test_explain_on_a_key_policy_decides_on_the_same_key(tmp_path: Path) -> None:
    policy = write(tmp_path, "key-policy.json", DEFAULT_POLICY)
    code, out, err = run("explain", policy, "--principal", ROOT_A, "--action", "kms:Decrypt")
    assert code == 0
    assert out.startswith(f"ALLOW: {ROOT_A} kms:Decrypt on {PLACEHOLDER}\n")
    assert f"\ninput assumed: {ASSUMED}\n" in out and ": warning: " in err
    request = write(tmp_path, "request.json", {"principal": ROOT_A, "action": "kms:Decrypt"})
    code, out, _ = run("explain", policy, "--request", request, "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["decision"] == "allow" and doc["blocked_by"] is None
    assert doc["layers"][0]["layer"] == "key-policy"
    assert doc["assumptions"] == {"inputs": [ASSUMED]}


def test_query_json_keeps_its_shape_and_names_the_assumed_key(tmp_path: Path) -> None:
    policy = write(tmp_path, "key-policy.json", DEFAULT_POLICY)
    code, out, _ = run("query", policy, ROOT_DECRYPTS, "--format", "json")
    doc = json.loads(out)
    assert code == 0
    assert {"answer", "counterexample", "assumptions", "seconds"} <= doc.keys()
    assert doc["answer"] == "yes" and doc["counterexample"]["key"] == PLACEHOLDER
    assert doc["counterexample"]["principal"] == ROOT_A
    assert doc["assumptions"]["inputs"] == [ASSUMED]
    assert "open_accounts" in doc["assumptions"]


def test_check_on_a_key_policy_reproduces_its_witness(tmp_path: Path) -> None:
    policy = write(tmp_path, "key-policy.json", DEFAULT_POLICY)
    spec = tmp_path / "kms.spec"
    spec.write_text(f"expect no: {OUTSIDE}\nexpect no: {ROOT_DECRYPTS}\n")
    code, out, err = run("check", policy, str(spec))
    assert code == 1
    assert out.count("holds") == 1 and out.count("FAILS") == 1
    assert f"  reproduce: kmsprove explain {policy} --key-arn {PLACEHOLDER} " in out
    assert f"\ninput assumed: {ASSUMED}\n" in out and ": warning: " in err
    code, out, _ = run("check", policy, str(spec), "--format", "json")
    doc = json.loads(out)
    assert code == 1 and doc["summary"] == {"holds": 1, "fails": 1, "unknown": 0}
    assert [r["answer"]["assumptions"]["inputs"] for r in doc["results"]] == [[ASSUMED]] * 2


# --------------------------------------------------------------------------
# --key-arn


def test_key_arn_places_the_policy_on_that_key_without_a_warning(tmp_path: Path) -> None:
    policy = write(tmp_path, "key-policy.json", DEFAULT_POLICY)
    code, out, err = run("query", policy, ROOT_DECRYPTS, "--key-arn", REAL_KEY)
    assert code == 0 and out.startswith(f"yes (key {REAL_KEY})\n")
    assert "input assumed" not in out and err == ""
    assert f"--key-arn {REAL_KEY} " in out
    code, out, _ = run("query", policy, ROOT_DECRYPTS, "--key-arn", REAL_KEY, "--format", "json")
    doc = json.loads(out)
    assert doc["key"] == REAL_KEY and doc["assumptions"]["inputs"] == []


def test_key_arn_in_another_account_makes_the_root_an_outsider(tmp_path: Path) -> None:
    policy = write(tmp_path, "key-policy.json", DEFAULT_POLICY)
    other = f"arn:aws:kms:eu-west-1:{B}:key/0987dcba-09fe-87dc-65ba-ab0987654321"
    outside_b = f"can any principal outside account {B} kms:Decrypt"
    code, out, _ = run("query", policy, outside_b, "--key-arn", other)
    assert code == 0 and out.startswith(f"yes (key {other})\n")
    assert f"::{A}:" in out.splitlines()[1]  # a principal of the account the policy names
    # the key's own account is not the one its policy delegates to
    code, out, _ = run(
        "query", policy, f"can any principal in account {B} kms:Decrypt", "--key-arn", other
    )
    assert code == 0 and out.startswith(f"no (key {other})\n")


def test_two_account_roots_need_key_arn(tmp_path: Path) -> None:
    doc = {"Version": "2012-10-17", "Statement": [ENABLE_IAM, EXTERNAL_USE]}
    policy = write(tmp_path, "key-policy.json", doc)
    code, out, err = run("query", policy, OUTSIDE)
    assert code == 2 and out == ""
    assert err == (
        f"{policy}:1:1: error: a key policy alone does not say which key it is:"
        " give --key-arn arn:aws:kms:REGION:ACCOUNT:key/ID\n"
    )
    code, out, _ = run("query", policy, OUTSIDE, "--key-arn", REAL_KEY)
    assert code == 0 and out.startswith(f"yes (key {REAL_KEY})\n")
    assert "444455556666" in out.splitlines()[1]  # the external account's principal


def test_a_policy_naming_no_root_needs_key_arn(tmp_path: Path) -> None:
    role = {**ENABLE_IAM, "Principal": {"AWS": f"arn:aws:iam::{A}:role/KeyUser"}}
    policy = write(tmp_path, "key-policy.json", {"Version": "2012-10-17", "Statement": [role]})
    code, out, err = run("explain", policy, "--principal", ROOT_A, "--action", "kms:Decrypt")
    assert code == 2 and out == "" and err.startswith(f"{policy}:1:1: error: a key policy alone")


@pytest.mark.parametrize(
    "bad",
    [
        "1234abcd-12ab-34cd-56ef-1234567890ab",  # a key id
        f"arn:aws:kms:us-west-2:{A}:alias/ExampleAlias",  # an alias ARN
        f"arn:aws:kms:us-west-2:{A[:-1]}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ],
)
def test_a_bad_key_arn_is_a_command_line_error(tmp_path: Path, bad: str) -> None:
    policy = write(tmp_path, "key-policy.json", DEFAULT_POLICY)
    explain = ["explain", policy, "--principal", ROOT_A, "--action", "kms:Decrypt"]
    for command in (["query", policy, OUTSIDE], explain):
        code, out, err = run(*command, "--key-arn", bad)
        assert code == 2 and out == ""
        assert err == (
            f"<cli>:1:1: error: --key-arn `{bad}` is not a KMS key ARN"
            " (arn:aws:kms:REGION:ACCOUNT:key/ID)\n"
        )


def test_key_arn_with_a_world_file_is_an_error(tmp_path: Path) -> None:
    world = write(
        tmp_path,
        "world.json",
        {"version": 1, "keys": [{"arn": REAL_KEY, "policy": DEFAULT_POLICY}]},
    )
    code, out, err = run("query", world, OUTSIDE, "--key-arn", REAL_KEY)
    assert code == 2 and out == ""
    assert err == (
        f"<cli>:1:1: error: --key-arn names the key of a key policy given as WORLD; `{world}`"
        " is not one (a world's keys carry their ARNs)\n"
    )


def test_template_flags_do_not_apply_to_a_key_policy(tmp_path: Path) -> None:
    policy = write(tmp_path, "key-policy.json", DEFAULT_POLICY)
    code, out, err = run("query", policy, OUTSIDE, "--account", B)
    assert code == 2 and out == "" and err.startswith("<cli>:1:1: error: --account, --region")


def test_the_policys_own_warnings_are_reported(tmp_path: Path) -> None:
    other = f"arn:aws:kms:us-west-2:{A}:key/0987dcba-09fe-87dc-65ba-ab0987654321"
    doc = {"Version": "2012-10-17", "Statement": [{**ENABLE_IAM, "Resource": other}]}
    policy = write(tmp_path, "key-policy.json", doc)
    code, out, err = run("query", policy, ROOT_DECRYPTS, "--key-arn", REAL_KEY)
    assert code == 0 and out.startswith("no ")  # the statement is about another key
    assert err.startswith(f"{policy}:4:9: warning: key policy `Resource` `{other}` is not")


# --------------------------------------------------------------------------
# other documents given as WORLD


IDENTITY_POLICY = {  # "IAM policy examples": use of the KMS keys in one account
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"],
            "Resource": [REAL_KEY],
        }
    ],
}
SCP = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Deny", "Action": "kms:ScheduleKeyDeletion", "Resource": "*"}],
}
BUCKET_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*",
        }
    ],
}
GRANTS = {
    "Grants": [
        {
            "KeyId": REAL_KEY,
            "GrantId": "0c237476b39f8bc44e45212e08498fbe3151305030726c0590dd8d3e9f3d6a60",
            "Name": "",
            "GranteePrincipal": f"arn:aws:iam::{A}:role/KeyUser",
            "IssuingAccount": ROOT_A,
            "Operations": ["Decrypt"],
        }
    ]
}
REQUEST = {"principal": ROOT_A, "action": "kms:Decrypt"}


@pytest.mark.parametrize(
    ("doc", "what", "where"),
    [
        (IDENTITY_POLICY, "an identity policy or an SCP", "a principal's `policies`"),
        (SCP, "an identity policy or an SCP", "an account's `scps`"),
        (BUCKET_POLICY, "a bucket policy", "a bucket's `policy`"),
        (GRANTS, "a list of grants", "a key's `grants`"),
        (REQUEST, "an `explain` request file", "kmsprove explain WORLD --request FILE"),
    ],
)
def test_another_document_as_world_says_what_it_is(
    tmp_path: Path, doc: dict, what: str, where: str
) -> None:
    path = write(tmp_path, "document.json", doc)
    spec = tmp_path / "kms.spec"
    spec.write_text(f"expect no: {OUTSIDE}\n")
    for command in (["query", path, OUTSIDE], ["check", path, str(spec)]):
        code, out, err = run(*command)
        assert code == 2 and out == ""
        assert err.startswith(f"{path}:1:1: error: this is {what}")
        assert ", not a world or a key policy: " in err
        assert where in err and err.count("\n") == 1

"""Issue 11: grants whose grantee or retiring principal is a unique id, through the CLI.

Worked cases built from AWS documentation. The ListGrants output is the shape of the
KMS Developer Guide's "Viewing grants" sample (`aws kms list-grants`,
https://docs.aws.amazon.com/kms/latest/developerguide/grant-view.html): the
GranteePrincipal a role ARN, a role's unique id (`AROA...`) or a session of the role
AWS owns for EBS (`assumed-role/aws:ec2-infrastructure/i-...`), the
RetiringPrincipal a user's unique id (`AIDA...`); unique id prefixes from IAM
identifiers, "Understanding unique ID prefixes"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html).

A unique id the world resolves is the principal it names, in `explain` and in every
question; one it does not resolve is a warning from `validate`, and no question
answers "no" when a grant to it carries the operation asked about.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from kmsprove.cli import main

A, B = "111122223333", "444455556666"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY = f"arn:aws:kms:us-west-2:{A}:key/{KEY_ID}"
ROLE_ID = "AROADBQP57FF2AEXAMPLE"  # the role `Reader` of account B
USER_ID = "AIDAJQABLZS4A3QDU576Q"  # the user `exampleUser` of account B
READER = f"arn:aws:iam::{B}:role/Reader"
WRITER = f"arn:aws:iam::{B}:role/Writer"
USER = f"arn:aws:iam::{B}:user/exampleUser"
EC2 = f"arn:aws:sts::{A}:assumed-role/aws:ec2-infrastructure/i-1234567890abcdef0"
GRANT = "abcde1237f76e4ba7987489ac329fbfba6ad343d6f7075dbd1ef191f0120514a"
EC2_GRANT = "0c237476b39f8bc44e45212e08498fbe3151305030726c0590dd8d3e9f3d6a60"
OUTSIDE = f"can any principal outside account {A} kms:Decrypt"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def list_grants(*grants: dict[str, Any]) -> dict[str, Any]:
    """`aws kms list-grants` output: every entry in the documented shape."""
    base = {
        "KeyId": KEY,
        "CreationDate": 1572216195.0,
        "Name": "",
        "IssuingAccount": f"arn:aws:iam::{A}:root",
        "Operations": ["Decrypt"],
    }
    return {"Grants": [{**base, **g} for g in grants], "Truncated": False}


def write_world(
    tmp: Path, grants: dict[str, Any] | None, ids: bool = True, name: str = "world.json"
) -> str:
    """Account A owns the key (its policy: the default, the account's root only) and is
    complete with no principals; account B is complete with `Reader`, `Writer` and
    `exampleUser`, their unique ids given when `ids`."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    (tmp / "key-policy.json").write_text(json.dumps(policy, indent=2))
    key: dict[str, Any] = {"arn": KEY, "policy": "key-policy.json"}
    if grants is not None:
        (tmp / "grants.json").write_text(json.dumps(grants, indent=4))
        key["grants"] = "grants.json"
    principals: dict[str, Any] = {READER: {}, WRITER: {}, USER: {}}
    if ids:
        principals[READER]["unique_id"] = ROLE_ID
        principals[WRITER]["unique_id"] = "AROAWRITEREXAMPLE0001"
        principals[USER]["unique_id"] = USER_ID
    doc = {
        "version": 1,
        "keys": [key],
        "accounts": {
            A: {"complete": True},
            B: {"complete": True, "principals": principals},
        },
    }
    path = tmp / name
    path.write_text(json.dumps(doc, indent=2))
    return str(path)


ID_GRANTS = list_grants(
    {"GrantId": GRANT, "GranteePrincipal": ROLE_ID, "RetiringPrincipal": USER_ID},
)
EC2_GRANTS = list_grants(
    {"GrantId": EC2_GRANT, "GranteePrincipal": EC2, "Operations": ["Decrypt", "RetireGrant"]}
)


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def query(world: str, text: str, *extra: str) -> tuple[int, dict[str, Any]]:
    code, out, err = cli("query", world, text, "--format", "json", *extra)
    assert code in (0, 3), err
    return code, json.loads(out)


def explain(
    world: str, principal: str, action: str = "kms:Decrypt", *extra: str
) -> tuple[int, dict[str, Any]]:
    code, out, err = cli(
        "explain", world, "--principal", principal, "--action", action, "--format", "json", *extra
    )
    assert code in (0, 3), err
    return code, json.loads(out)


# -- validate ------------------------------------------------------------------------


def test_list_grants_output_with_ids_and_a_service_session_is_valid(tmp_path: Path) -> None:
    grants = list_grants(
        {"GrantId": "g-role", "GranteePrincipal": READER, "RetiringPrincipal": USER_ID},
        {"GrantId": GRANT, "GranteePrincipal": ROLE_ID},
        {"GrantId": EC2_GRANT, "GranteePrincipal": EC2, "Operations": ["Decrypt", "RetireGrant"]},
    )
    w = write_world(tmp_path, grants)
    code, out, err = cli("validate", w)
    assert (code, err) == (0, ""), err
    assert out.strip() == "1 file(s) valid"


def test_an_unresolved_id_is_a_warning_at_its_grant_never_an_error(tmp_path: Path) -> None:
    w = write_world(tmp_path, ID_GRANTS, ids=False)
    code, out, err = cli("validate", w)
    assert code == 0, err
    text = (tmp_path / "grants.json").read_text()
    line = text[: text.index('"KeyId"')].count("\n")  # the grant's `{` is the line before
    col = text.splitlines()[line - 1].index("{") + 1
    prefix = f"{tmp_path / 'grants.json'}:{line}:{col}: warning: grant `{GRANT}`'s "
    assert err.splitlines() == [
        prefix + f"grantee `{ROLE_ID}` is not among the world's principals (give `unique_id` "
        "on the principal, or import get-account-authorization-details): its principal and "
        "account are unknown, so answers it could change are unknown",
        prefix + f"retiring principal `{USER_ID}` is not among the world's principals (give "
        "`unique_id` on the principal, or import get-account-authorization-details): its "
        "principal and account are unknown, so answers it could change are unknown",
    ]
    assert "2 warning(s)" in out


def test_a_unique_id_of_the_wrong_kind_is_an_error(tmp_path: Path) -> None:
    w = write_world(tmp_path, None)
    doc = json.loads(Path(w).read_text())
    doc["accounts"][B]["principals"][READER]["unique_id"] = USER_ID
    Path(w).write_text(json.dumps(doc, indent=2))
    code, _, err = cli("validate", w)
    assert code == 2
    assert f"error: `{USER_ID}` is not a role's unique id: a role's starts with `AROA`" in err


def test_a_documentation_sample_key_arn_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "grants.json"
    sample = f"arn:aws:kms:us-west-2:{A}:key/example-key-id"
    path.write_text(json.dumps(list_grants({"KeyId": sample, "GranteePrincipal": READER})))
    code, _, err = cli("validate", "--kind", "grants", str(path))
    assert code == 0, err
    assert err.count(": warning: ") == 1 and ": error: " not in err
    assert f"`{sample}`: `example-key-id` is not a key id AWS issues" in err


# -- explain -------------------------------------------------------------------------


def test_a_resolved_role_id_lets_the_roles_sessions_use_the_grant(tmp_path: Path) -> None:
    w = write_world(tmp_path, ID_GRANTS)
    code, d = explain(w, f"arn:aws:sts::{B}:assumed-role/Reader/s1")
    assert (code, d["decision"], d["reason"]) == (0, "allow", "a grant allows it (R1.9)")
    [grants] = [lr for lr in d["layers"] if lr["layer"] == "grants"]
    assert [(s["sid"], s["why"]) for s in grants["statements"]] == [
        (GRANT, f"allows (`{ROLE_ID}` is `{READER}`)")
    ]
    # another role of the same account, whose own id is known: a plain deny
    code, d = explain(w, f"arn:aws:sts::{B}:assumed-role/Writer/s1")
    assert (code, d["decision"], d["unknown"]) == (0, "deny", None)
    # the user is the retiring principal, not the grantee
    code, d = explain(w, f"arn:aws:iam::{B}:user/exampleUser")
    assert (code, d["decision"]) == (0, "deny")


def test_a_resolved_user_id_is_the_retiring_principal(tmp_path: Path) -> None:
    w = write_world(tmp_path, ID_GRANTS)
    code, d = explain(w, USER, "kms:RetireGrant", "--grant-id", GRANT)
    assert (code, d["decision"]) == (0, "allow")
    assert d["reason"] == "the caller is the retiring principal (R4.7)"
    code, d = explain(
        w, f"arn:aws:sts::{B}:assumed-role/Writer/s1", "kms:RetireGrant", "--grant-id", GRANT
    )
    assert (code, d["decision"]) == (0, "deny")


def test_an_unresolved_id_makes_a_deny_unknown_naming_the_id(tmp_path: Path) -> None:
    w = write_world(tmp_path, ID_GRANTS, ids=False)
    code, d = explain(w, f"arn:aws:sts::{B}:assumed-role/Reader/s1")
    assert (code, d["decision"]) == (3, "unknown")
    assert ROLE_ID in d["unknown"] and "may be the caller" in d["unknown"]
    # a user is never the principal of a role's id
    code, d = explain(w, USER)
    assert (code, d["decision"], d["unknown"]) == (0, "deny", None)
    code, out, _ = cli(
        "explain",
        w,
        "--principal",
        f"arn:aws:sts::{B}:assumed-role/Reader/s1",
        "--action",
        "kms:Decrypt",
    )
    assert code == 3 and out.startswith("UNKNOWN: ")
    assert f"  unknown: grant {GRANT}'s grantee {ROLE_ID} is not resolved" in out


def test_a_session_of_the_role_aws_owns_uses_its_grant(tmp_path: Path) -> None:
    w = write_world(tmp_path, EC2_GRANTS)
    code, d = explain(w, EC2)
    assert (code, d["decision"], d["reason"]) == (0, "allow", "a grant allows it (R1.9)")
    code, d = explain(w, EC2, "kms:RetireGrant", "--grant-id", EC2_GRANT)
    assert (code, d["decision"]) == (0, "allow")


# -- query (today) -------------------------------------------------------------------


def test_query_a_resolved_role_id_is_yes_for_the_roles_session(tmp_path: Path) -> None:
    w = write_world(tmp_path, ID_GRANTS)
    code, out = query(w, OUTSIDE)
    assert (code, out["answer"]) == (0, "yes")
    assert out["counterexample"]["principal"].startswith(f"arn:aws:sts::{B}:assumed-role/Reader/")
    # the resolved user is only the retiring principal: it cannot decrypt
    code, out = query(w, f"can principal {USER} kms:Decrypt")
    assert (code, out["answer"]) == (0, "no")
    code, out = query(w, f"can principal {USER} kms:RetireGrant")
    assert (code, out["answer"]) == (0, "yes")
    assert out["counterexample"]["principal"] == USER


def test_query_an_unresolved_id_is_unknown_never_no(tmp_path: Path) -> None:
    assert query(write_world(tmp_path, None), OUTSIDE)[1]["answer"] == "no"  # the baseline
    w = write_world(tmp_path, ID_GRANTS, ids=False)
    for text in (
        OUTSIDE,
        f"can principal arn:aws:sts::{B}:assumed-role/Reader/s1 kms:Decrypt",
        'can any principal kms:Decrypt where aws:PrincipalAccount == "999999999999"',
    ):
        code, out = query(w, text)
        assert (code, out["answer"]) == (3, "unknown"), text
        assert f"grant {GRANT}'s grantee {ROLE_ID} is not resolved" in out["reason"]
    code, out = query(w, f"can any principal outside account {A} kms:RetireGrant")
    assert (code, out["answer"]) == (3, "unknown")
    assert f"retiring principal {USER_ID} is not resolved" in out["reason"]
    # where the grant cannot matter, "no" stands: an operation it does not carry, or a
    # caller that is no role session
    assert query(w, f"can any principal outside account {A} kms:Encrypt")[1]["answer"] == "no"
    assert query(w, f"can principal {USER} kms:Decrypt")[1]["answer"] == "no"


def test_query_a_session_of_the_role_aws_owns(tmp_path: Path) -> None:
    w = write_world(tmp_path, EC2_GRANTS)
    code, out = query(w, f"can principal {EC2} kms:Decrypt")
    assert (code, out["answer"]) == (0, "yes")
    assert out["counterexample"]["principal"] == EC2


def test_query_reads_ids_from_get_account_authorization_details(tmp_path: Path) -> None:
    """`RoleId` and `UserId` of an imported account resolve grants (examples/complete-account)."""
    for name in ("auth-details.json", "key-policy.json", "world.json"):
        shutil.copy(EXAMPLES / "complete-account" / name, tmp_path / name)
    doc = json.loads((tmp_path / "world.json").read_text())
    grants = list_grants(
        {"GrantId": GRANT, "GranteePrincipal": "AROAAPPROLEEXAMPLE001"},
        {
            "GrantId": "g-bob",
            "GranteePrincipal": "AIDABOBEXAMPLE0000002",
            "Operations": ["Encrypt"],
        },
    )
    (tmp_path / "grants.json").write_text(json.dumps(grants))
    doc["keys"][0]["grants"] = "grants.json"
    (tmp_path / "world.json").write_text(json.dumps(doc))
    w = str(tmp_path / "world.json")
    code, _, err = cli("validate", w)
    assert code == 0 and "not among the world's principals" not in err, err
    for caller, action, grant_id in (
        (f"arn:aws:sts::{A}:assumed-role/AppRole/s1", "kms:Decrypt", GRANT),
        (f"arn:aws:iam::{A}:user/contractors/bob", "kms:Encrypt", "g-bob"),
    ):
        code, d = explain(w, caller, action)
        assert d["decision"] == "allow", (caller, d["reason"])
        used = [s["sid"] for lr in d["layers"] if lr["layer"] == "grants" for s in lr["statements"]]
        assert used == [grant_id]
        code, out = query(w, f"can principal {caller} {action}")
        assert out["answer"] == "yes"


# -- ever and diff -------------------------------------------------------------------


def test_ever_an_unresolved_id_is_unknown_never_no(tmp_path: Path) -> None:
    ever = f"can any principal outside account {A} ever kms:Decrypt"
    trust = ("--trust", f"arn:aws:iam::{A}:root")
    assert query(write_world(tmp_path, None), ever, *trust)[1]["answer"] == "no"
    code, out = query(write_world(tmp_path, ID_GRANTS, ids=False), ever, *trust)
    assert (code, out["answer"]) == (3, "unknown")
    assert ROLE_ID in out["reason"]
    code, out = query(write_world(tmp_path, ID_GRANTS), ever, *trust)
    assert (code, out["answer"]) == (0, "yes")
    assert out["counterexample"]["principal"].startswith(f"arn:aws:sts::{B}:assumed-role/Reader/")


def test_diff_a_grant_to_an_unresolved_id_is_unknown_never_equivalent(tmp_path: Path) -> None:
    old = write_world(tmp_path, None, name="old.json")
    new = write_world(tmp_path, ID_GRANTS, ids=False, name="new.json")
    who = ("--who", f"any principal outside account {A}")
    code, out, _ = cli("diff", old, new, *who, "--format", "json")
    d = json.loads(out)
    assert (code, d["relation"]) == (3, "unknown")
    assert d["directions"]["new_access"]["status"] == "unknown"
    assert f"{GRANT}'s grantee {ROLE_ID} is not resolved" in d["directions"]["new_access"]["reason"]
    resolved = write_world(tmp_path, ID_GRANTS, name="resolved.json")
    code, out, _ = cli("diff", old, resolved, *who, "--format", "json")
    d = json.loads(out)
    assert (code, d["relation"]) == (1, "more-permissive")
    caller = d["new_access"]["principal"]
    assert caller == USER or caller.startswith(f"arn:aws:sts::{B}:assumed-role/Reader/"), caller

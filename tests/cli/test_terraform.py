"""Terraform plans and states through the real CLI.

- Each fixture of tests/data/terraform (public modules' examples, README.md there)
  answers every question as the world a person writes by hand for it does.
- Each form of a value known only after apply gives "unknown" with its reason for a
  question whose stand-in answer would be "no"; never that "no".
- Bad plans: positioned errors (inside a policy string: in the plan file), exit 2, no
  traceback, nothing written.
- `--account` / `--region`, carried into every reproduce line (tests/conftest.py runs
  them), `check`, `diff` and directory runs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kmsprove.cli import main
from tests.support.cli import listing
from tests.support.terraform import change, conf, doc, encoded, plan, ref, resource, st

DATA = Path(__file__).parent.parent / "data" / "terraform"
A = "123456789012"
B = "444455556666"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY = f"arn:aws:kms:eu-west-1:{A}:key/{KEY_ID}"
ROOT = st("Root", ["kms:*"], {"AWS": f"arn:aws:iam::{A}:root"})
OUTSIDE = f"can any principal outside account {A} kms:Decrypt"
UNKNOWN_KEY = {"arn": True, "id": True, "key_id": True}


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


REASONS: dict[str, str] = {}  # the last answers' reasons, for a failing test's message


def answers(path: str | Path, query: str, *flags: str) -> dict[str | None, str]:
    code, out, err = run("query", str(path), query, "--format", "json", *flags)
    assert code in (0, 3), out + err
    doc_ = json.loads(out)
    found = doc_.get("keys", [doc_])
    REASONS[str(path)] = "; ".join(f"{a['answer']}: {a.get('reason')}" for a in found)
    return {a["key"]: a["answer"] for a in found}


def write(tmp: Path, document: dict[str, Any], name: str = "plan.json") -> str:
    path = tmp / name
    path.write_text(json.dumps(document, indent=2))
    return str(path)


def known_key(policy: dict[str, Any] | None = None) -> dict[str, Any]:
    after = {"arn": KEY, "key_id": KEY_ID, "id": KEY_ID, "policy": encoded(policy or doc(ROOT))}
    return change("aws_kms_key", "k", after, {}, ("no-op",), before=after)


def caller(account: str = A) -> dict[str, Any]:
    values = {"account_id": account, "arn": f"arn:aws:iam::{account}:user/ci"}
    return resource("aws_caller_identity", "current", values, mode="data")


# --------------------------------------------------------------------------
# public examples against their hand-written worlds

ME = "arn:aws:iam::210987654321:user/terraform"
COMPARED = {
    "kms-complete": (
        ("plan.json", "world.json"),
        ("state.json", "state-world.json"),
        (
            "can any principal outside account 210987654321 kms:Decrypt",
            f"can principal {ME} kms:Sign",
            f"can principal {ME} kms:PutKeyPolicy",
            "can service dnssec-route53.amazonaws.com kms:Sign",
            "can service logs.us-east-1.amazonaws.com kms:Decrypt",
            "can any principal in account 210987654321 kms:ScheduleKeyDeletion",
        ),
    ),
    "cloudposse-kms-key": (
        ("plan.json", "world.json"),
        (
            "can any principal outside account 111122223333 kms:Decrypt",
            "can principal arn:aws:iam::111122223333:role/app kms:Decrypt",
            "can anyone kms:Decrypt on key alias/eg-test-kms-key-test",
        ),
    ),
    "kms-grant": (
        ("plan.json", "world.json"),
        (
            "can principal arn:aws:iam::111122223333:role/iam-role-for-grant kms:Decrypt",
            "can principal arn:aws:iam::111122223333:role/iam-role-for-grant kms:Decrypt"
            ' where kms:EncryptionContext:Department == "HR"',
            "can any principal outside account 111122223333 kms:Decrypt",
        ),
    ),
    "iam-s3": (
        ("plan.json", "world.json"),
        (
            "can principal arn:aws:iam::333344445555:role/app/reader kms:Decrypt",
            "can principal arn:aws:iam::333344445555:role/app/reader s3:GetObject"
            " on bucket arn:aws:s3:::example-data-333344445555",
            "can principal arn:aws:iam::333344445555:user/alice kms:Decrypt",
            "can principal arn:aws:iam::333344445555:role/writer kms:Decrypt",
            "can principal arn:aws:iam::333344445555:role/ops kms:Decrypt",
            "can any principal outside account 333344445555 kms:Decrypt",
        ),
    ),
}
CASES = [
    (folder, pair, q)
    for folder, (*pairs, queries) in COMPARED.items()
    for pair in pairs
    for q in queries
]


@pytest.mark.parametrize(("folder", "pair", "query"), CASES)
def test_a_public_example_answers_as_its_hand_written_world(
    folder: str, pair: tuple[str, str], query: str
) -> None:
    tf, hand = (DATA / folder / name for name in pair)
    # a composed S3 read is the heaviest question here (2-3 s alone): room for a loaded
    # CI machine, so that only a real difference fails
    got, want = answers(tf, query, "--timeout", "120"), answers(hand, query, "--timeout", "120")
    assert got == want, f"{tf}: {REASONS[str(tf)]}\n{hand}: {REASONS[str(hand)]}"


def test_the_examples_answer_what_their_policies_intend() -> None:
    """Not only equal: the answers the modules' key policies are written for."""
    complete = answers(DATA / "kms-complete" / "state.json", f"can principal {ME} kms:Decrypt")
    # key owner and users on every key; the DNSSEC key (SIGN_VERIFY) never decrypts
    dnssec = "arn:aws:kms:us-east-1:210987654321:key/8c704e51-3d6f-4a0c-9e9d-2f3a4b5c6d7e"
    assert complete.pop(dnssec) == "no" and set(complete.values()) == {"yes"}, REASONS
    assert set(answers(DATA / "kms-grant" / "plan.json", COMPARED["kms-grant"][1][0]).values()) == {
        "yes"
    }
    assert set(
        answers(
            DATA / "cloudposse-kms-key" / "plan.json", COMPARED["cloudposse-kms-key"][1][0]
        ).values()
    ) == {"no"}


def test_the_plan_before_apply_is_unknown_only_where_apply_decides() -> None:
    plan_answers = answers(DATA / "kms-complete" / "plan.json", COMPARED["kms-complete"][2][0])
    assert sorted(plan_answers.values()) == ["no", "no", "no", "unknown", "unknown"]
    code, out, _ = run(
        "query", str(DATA / "kms-complete" / "plan.json"), COMPARED["kms-complete"][2][0]
    )
    assert code == 3
    assert (
        '`module.kms_complete.aws_kms_grant.this["lambda"]`: `grantee_principal` is known only after apply'
        in out
    )


def test_a_plan_that_changes_nothing_a_caller_can_do_diffs_equivalent() -> None:
    old, new = DATA / "iam-s3" / "state-before.json", DATA / "iam-s3" / "plan.json"
    code, out, _ = run("diff", str(old), str(new))
    assert code == 0 and out.startswith("equivalent"), out


# --------------------------------------------------------------------------
# known only after apply: unknown with its reason, never "no"


def _key_policy_unknown() -> dict[str, Any]:
    key = change("aws_kms_key", "k", {"arn": KEY, "key_id": KEY_ID}, {"policy": True}, ("update",))
    configuration = {
        "root_module": {
            "resources": [conf("aws_kms_key", "k", {"policy": ref("aws_iam_role.r.arn")})]
        }
    }
    return plan([key], [caller()], configuration)


def _grant_to_an_unnamed_role() -> dict[str, Any]:
    role = change("aws_iam_role", "r", {"name_prefix": "app-"}, {"arn": True, "name": True})
    grant = change(
        "aws_kms_grant",
        "g",
        {"key_id": KEY_ID, "operations": ["Decrypt"]},
        {"grantee_principal": True},
    )
    configuration = {
        "root_module": {
            "resources": [
                conf(
                    "aws_kms_grant",
                    "g",
                    {"grantee_principal": ref("aws_iam_role.r.arn", "aws_iam_role.r")},
                )
            ]
        }
    }
    return plan([known_key(), role, grant], [caller()], configuration)


def _grant_operations_unknown() -> dict[str, Any]:
    grant = change(
        "aws_kms_grant",
        "g",
        {"key_id": KEY_ID, "grantee_principal": f"arn:aws:iam::{B}:root"},
        {"operations": True},
    )
    return plan([known_key(), grant], [caller()], {})


def _identity_policy_unknown() -> dict[str, Any]:
    role = change("aws_iam_role", "r", {"name": "r", "arn": f"arn:aws:iam::{A}:role/r"}, {})
    inline = change("aws_iam_role_policy", "p", {"role": "r"}, {"policy": True})
    return plan([known_key(), role, inline], [caller()], {})


def _key_policy_resource_names_no_key() -> dict[str, Any]:
    kp = change("aws_kms_key_policy", "kp", {"policy": encoded(doc(ROOT))}, {"key_id": True})
    return plan([known_key(), kp], [caller()], {})


def _alias_name_unknown_while_a_policy_tests_aliases() -> dict[str, Any]:
    gated = st(
        "ByAlias",
        ["kms:Decrypt"],
        {"AWS": f"arn:aws:iam::{B}:root"},
        {"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/shared"}},
    )
    alias = change(
        "aws_kms_alias",
        "a",
        {"target_key_id": KEY_ID, "name_prefix": "alias/shared"},
        {"name": True},
    )
    return plan([known_key(doc(ROOT, gated)), alias], [caller()], {})


def _bucket_policy_unknown() -> dict[str, Any]:
    bucket = change("aws_s3_bucket", "b", {"bucket": "data-b", "region": "eu-west-1"}, {})
    sse = change(
        "aws_s3_bucket_server_side_encryption_configuration",
        "b",
        {
            "bucket": "data-b",
            "rule": [
                {
                    "apply_server_side_encryption_by_default": [
                        {"kms_master_key_id": KEY, "sse_algorithm": "aws:kms"}
                    ]
                }
            ],
        },
        {},
    )
    policy = change("aws_s3_bucket_policy", "b", {"bucket": "data-b"}, {"policy": True})
    return plan([known_key(), bucket, sse, policy], [caller()], {})


def _deferred_plan() -> dict[str, Any]:
    out = plan([known_key()], [caller()], {})
    out["complete"] = False
    return out


def _tags_unknown_while_a_policy_tests_them() -> dict[str, Any]:
    tagged = st(
        "Tagged",
        ["kms:Decrypt"],
        {"AWS": f"arn:aws:iam::{B}:root"},
        {"StringEquals": {"aws:ResourceTag/share": "yes"}},
    )
    after = {"arn": KEY, "key_id": KEY_ID, "policy": encoded(doc(ROOT, tagged))}
    return plan(
        [change("aws_kms_key", "k", after, {"tags_all": True}, ("update",))], [caller()], {}
    )


UNKNOWN_FORMS = {
    "key policy": (
        _key_policy_unknown,
        OUTSIDE,
        "`aws_kms_key.k`: `policy` is known only after apply",
    ),
    "grantee": (
        _grant_to_an_unnamed_role,
        OUTSIDE,
        "`aws_kms_grant.g`: `grantee_principal` is known only after apply",
    ),
    "grant operations": (
        _grant_operations_unknown,
        OUTSIDE,
        "`aws_kms_grant.g`: `operations` is known only after apply",
    ),
    "identity policy": (
        _identity_policy_unknown,
        f"can principal arn:aws:iam::{A}:role/r kms:Decrypt",
        "`aws_iam_role_policy.p`: `policy` is known only after apply",
    ),
    "key policy target": (
        _key_policy_resource_names_no_key,
        OUTSIDE,
        "`aws_kms_key_policy.kp`: `key_id` is known only after apply",
    ),
    "alias name": (
        _alias_name_unknown_while_a_policy_tests_aliases,
        OUTSIDE,
        "`aws_kms_alias.a`: its alias name is known only after apply",
    ),
    "bucket policy": (
        _bucket_policy_unknown,
        f"can principal arn:aws:iam::{B}:role/x s3:GetObject on bucket arn:aws:s3:::data-b",
        "`aws_s3_bucket_policy.b`: `policy` is known only after apply",
    ),
    "deferred": (_deferred_plan, OUTSIDE, "the plan defers changes"),
    "tags": (
        _tags_unknown_while_a_policy_tests_them,
        OUTSIDE,
        "`aws_kms_key.k`: `tags_all` is known only after apply",
    ),
}


@pytest.mark.parametrize("form", sorted(UNKNOWN_FORMS))
def test_a_value_known_only_after_apply_is_unknown_never_no(tmp_path: Path, form: str) -> None:
    build, query, reason = UNKNOWN_FORMS[form]
    path = write(tmp_path, build())
    code, out, err = run("query", path, query, "--format", "json")
    assert code == 3, out + err
    result = json.loads(out)
    assert result["answer"] == "unknown" and reason in result["reason"], result
    assert "the answer would be" in result["reason"]
    # validate warns at it, and accepts the plan
    code, out, err = run("validate", path)
    assert code == 0 and "unsettled: " + reason in err, err


def test_a_new_key_is_named_by_its_placeholder_and_explained_by_it(tmp_path: Path) -> None:
    key = change(
        "aws_kms_key",
        "k",
        {
            "policy": encoded(
                doc(ROOT, st("Partner", ["kms:Decrypt"], {"AWS": f"arn:aws:iam::{B}:root"}))
            )
        },
        UNKNOWN_KEY,
    )
    path = write(tmp_path, plan([key], [], {}))
    partner = f"can principal arn:aws:iam::{B}:root kms:Decrypt"
    code, out, _ = run("query", path, partner, "--account", A, "--region", "eu-west-1")
    assert code == 0 and out.startswith(f"yes (key arn:aws:kms:eu-west-1:{A}:key/"), out
    assert "input assumed" not in out
    (line,) = [x for x in out.splitlines() if "reproduce:" in x]
    assert f"plan.json --account {A} --region eu-west-1 --principal" in line
    arn = re.search(r"key (arn:aws:kms:[^)]+)\)", out).group(1)  # type: ignore[union-attr]
    code, out, _ = run(
        "explain",
        path,
        "--account",
        A,
        "--region",
        "eu-west-1",
        "--principal",
        f"arn:aws:iam::{B}:root",
        "--action",
        "kms:Decrypt",
        "--key",
        arn,
    )
    assert code == 0 and out.startswith("ALLOW"), out
    assert f"Sid `Partner` at {path}:" in out


def test_defaults_are_said_in_answers(tmp_path: Path) -> None:
    key = change("aws_kms_key", "k", {"policy": encoded(doc(ROOT))}, UNKNOWN_KEY)
    path = write(tmp_path, plan([key], [], {}))
    _, out, _ = run("query", path, "can anyone kms:Decrypt")
    assert "input assumed: account 111122223333: the input does not say" in out
    assert "input assumed: Region us-east-1" in out
    _, out, _ = run("query", path, "can anyone kms:Decrypt", "--format", "json")
    assert len(json.loads(out)["assumptions"]["inputs"]) == 2


def test_a_principal_the_plan_names_only_after_apply_stays_open(tmp_path: Path) -> None:
    role = change("aws_iam_role", "r", {"name_prefix": "app-"}, {"arn": True, "name": True})
    path = write(tmp_path, plan([known_key(), role], [caller()], {}))
    code, _, err = run("validate", path)
    assert code == 0 and "`aws_iam_role.r`: its ARN is known only after apply: left out" in err


# --------------------------------------------------------------------------
# bad plans


def _bad(tmp: Path, document: dict[str, Any], *args: str) -> tuple[int, str, str, str]:
    path = write(tmp, document)
    before = listing(tmp)
    code, out, err = run(*args[:1], path, *args[1:])
    assert listing(tmp) == before
    return code, out, err, (tmp / "plan.json").read_text()


@pytest.mark.parametrize(
    "command",
    [
        ("validate",),
        ("query", OUTSIDE),
        ("check", "SPEC"),
        ("explain", "--principal", f"arn:aws:iam::{A}:root", "--action", "kms:Decrypt"),
    ],
)
def test_a_malformed_policy_string_is_an_error_in_the_plan_file(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    broken = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow" "Action": "kms:*"}]}'
    after = {"arn": KEY, "key_id": KEY_ID, "policy": broken}
    spec = tmp_path / "kms.spec"
    spec.write_text(f"expect no: {OUTSIDE}\n")
    args = tuple(str(spec) if a == "SPEC" else a for a in command)
    code, out, err, text = _bad(
        tmp_path, plan([change("aws_kms_key", "k", after, {})], [], {}), *args
    )
    assert code == 2 and out == "", out
    (line,) = [x for x in err.splitlines() if "error" in x]
    m = re.match(r"(.+):(\d+):(\d+): error: missing `,` before `\"Action\"`$", line)
    assert m is not None and m.group(1).endswith("plan.json"), err
    row, col = int(m.group(2)), int(m.group(3))
    assert text.split("\n")[row - 1][col - 1 :].startswith('\\"Action\\"'), err


def test_a_policy_problem_points_inside_the_string(tmp_path: Path) -> None:
    bad = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Alow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}
        ],
    }
    code, _, err, text = _bad(tmp_path, plan([known_key(bad)], [], {}), "validate")
    assert code == 2
    m = re.search(r"plan\.json:(\d+):(\d+): error: .*Alow", err)
    assert m is not None, err
    assert text.split("\n")[int(m.group(1)) - 1][int(m.group(2)) - 1 :].startswith('\\"Alow\\"'), (
        err
    )


@pytest.mark.parametrize(
    ("version", "message"),
    [
        ("2.0", "unsupported Terraform JSON `format_version` `2.0`"),
        (2, "`format_version` must be a string"),
    ],
)
def test_an_unknown_format_version_is_refused(tmp_path: Path, version: Any, message: str) -> None:
    document = plan([known_key()], [], {})
    document["format_version"] = version
    code, out, err, _ = _bad(tmp_path, document, "query", OUTSIDE)
    assert code == 2 and out == ""
    (line,) = err.splitlines()
    assert message in line and line.startswith(f"{tmp_path / 'plan.json'}:2:")


def test_a_broken_plan_structure_is_positioned(tmp_path: Path) -> None:
    document = plan([known_key()], [], {})
    document["resource_changes"] = {"not": "a list"}
    document["errored"] = True
    code, _, err, _ = _bad(tmp_path, document, "validate")
    assert code == 2
    assert "`resource_changes` must be an array, not an object" in err
    assert "the plan errored" in err


def test_a_bad_account_option_is_a_command_line_error(tmp_path: Path) -> None:
    code, _, err, _ = _bad(
        tmp_path, plan([known_key()], [], {}), "query", OUTSIDE, "--account", "12"
    )
    assert (
        code == 2
        and err.strip() == "<cli>:1:1: error: --account takes a 12-digit account id, not `12`"
    )


# --------------------------------------------------------------------------
# check, diff, directories


def test_check_a_plan_with_its_account(tmp_path: Path) -> None:
    partner = st("Partner", ["kms:Decrypt"], {"AWS": f"arn:aws:iam::{B}:root"})
    key = change("aws_kms_key", "k", {"policy": encoded(doc(ROOT, partner))}, UNKNOWN_KEY)
    path = write(tmp_path, plan([key], [], {}))
    spec = tmp_path / "kms.spec"
    spec.write_text(
        f"expect no: can principal arn:aws:iam::{B}:root kms:Decrypt\n"
        f"expect yes: can principal arn:aws:iam::{A}:root kms:Decrypt\n"
    )
    code, out, _ = run("check", path, str(spec), "--account", A, "--region", "eu-west-1")
    assert code == 1 and "FAILS" in out and "--account 123456789012" in out, out
    code, out, _ = run("check", path, str(spec), "--format", "json")
    results = json.loads(out)["results"]
    assert results[0]["answer"]["assumptions"]["inputs"], results


def test_diff_of_two_plans_shows_the_new_access(tmp_path: Path) -> None:
    old = write(tmp_path, plan([known_key()], [], {}), "old.json")
    opened = doc(ROOT, st("Partner", ["kms:Decrypt"], {"AWS": f"arn:aws:iam::{B}:root"}))
    new = write(tmp_path, plan([known_key(opened)], [], {}), "new.json")
    code, out, _ = run("diff", old, new)
    assert code == 1 and out.startswith("more-permissive"), out


def test_a_directory_of_plans_is_an_estate(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    write(tmp_path / "a", plan([known_key()], [caller()], {}))
    spec = tmp_path / "kms.spec"
    spec.write_text(f"expect no: {OUTSIDE}\n")
    code, out, _ = run("check", str(tmp_path / "a"), str(spec), "--jobs", "1")
    assert code == 0 and "1 worlds, 1 keys: 1 hold" in out, out

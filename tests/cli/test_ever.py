"""`can ... ever ...`: steps over time, through the CLI. Every "yes" carries a trace
whose steps replayed through the evaluator; a "no" needs that no untrusted principal
can take a step today."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from kmsprove.cli import main

A, B = "111122223333", "444455556666"
KEY = f"arn:aws:kms:us-east-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ADMIN = f"arn:aws:iam::{A}:role/KeyAdmin"
APP = f"arn:aws:iam::{A}:role/App"
EVER = f"can any principal outside account {A} ever kms:Decrypt"
ROOT = f"arn:aws:iam::{A}:root"
# roles whose trust policy is not given count as assumable by anyone: these are not
IN_ACCOUNT = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "sts:AssumeRole"}],
}
ROLE = {"trust_policy": IN_ACCOUNT}


def st(principal: Any, action: Any, condition: dict | None = None) -> dict:
    s: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": principal,
        "Action": action,
        "Resource": "*",
    }
    if condition:
        s["Condition"] = condition
    return s


def world(
    tmp: Path, statements: list[dict], accounts: dict | None = None, grants: list | None = None
) -> str:
    doc = {
        "version": 1,
        "keys": [
            {
                "arn": KEY,
                "policy": {"Version": "2012-10-17", "Statement": statements},
                "grants": grants or [],
            }
        ],
        "accounts": accounts
        if accounts is not None
        else {A: {"complete": True, "principals": {ADMIN: ROLE, APP: ROLE}}},
    }
    p = tmp / "world.json"
    p.write_text(json.dumps(doc))
    return str(p)


def ask(w: str, text: str = EVER, *trust: str) -> tuple[int, dict]:
    args = ["query", w, text, "--format", "json"]
    for t in trust:
        args += ["--trust", t]
    result = CliRunner().invoke(main, args)
    assert "Traceback" not in result.output, result.output
    return result.exit_code, json.loads(result.stdout)


ADMIN_ST = st({"AWS": ADMIN}, ["kms:Create*", "kms:Put*", "kms:Describe*"])


def test_key_administrator_can_rewrite_the_policy_unless_trusted(tmp_path: Path) -> None:
    w = world(tmp_path, [ADMIN_ST])
    code, out = ask(w)
    assert code == 0 and out["answer"] == "yes"
    trace = out["counterexample"]["trace"]
    assert [s["action"] for s in trace] == ["kms:PutKeyPolicy", "kms:Decrypt"]
    assert trace[0]["principal"].startswith(f"arn:aws:sts::{A}:assumed-role/KeyAdmin/")
    # the account's root user is a principal too: it can take the role over
    code, out = ask(w, EVER, ADMIN)
    assert code == 0 and out["answer"] == "yes"
    trace = out["counterexample"]["trace"]
    assert [s["action"] for s in trace] == [
        "iam:UpdateAssumeRolePolicy",
        "kms:PutKeyPolicy",
        "kms:Decrypt",
    ]
    assert trace[0]["principal"] == ROOT and trace[0]["resource"] == ADMIN
    code, out = ask(w, EVER, ADMIN, ROOT)
    assert code == 0 and out["answer"] == "no" and out["assumptions"]["trusted"] == [ADMIN, ROOT]


def test_today_no_but_an_unrestricted_create_grant_is_a_yes(tmp_path: Path) -> None:
    w = world(tmp_path, [st({"AWS": APP}, "kms:CreateGrant")])
    assert ask(w, f"can any principal outside account {A} kms:Decrypt")[1]["answer"] == "no"
    out = ask(w)[1]
    assert out["answer"] == "yes"
    step = out["counterexample"]["trace"][0]
    assert step["action"] == "kms:CreateGrant" and step["parameters"]["Operations"] == ["Decrypt"]


def test_create_grant_only_for_aws_resources_is_no(tmp_path: Path) -> None:
    cond = {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    assert ask(world(tmp_path, [st({"AWS": APP}, "kms:CreateGrant", cond)]))[1]["answer"] == "no"


def test_create_grant_limited_to_other_operations_is_not_a_yes(tmp_path: Path) -> None:
    cond = {
        "ForAllValues:StringEquals": {"kms:GrantOperations": ["Encrypt"]},
        "Null": {"kms:GrantOperations": "false"},
    }
    _, out = ask(world(tmp_path, [st({"AWS": APP}, "kms:CreateGrant", cond)]))
    assert out["answer"] == "no", out["reason"]  # the closure over grants: for any length


def test_create_grant_with_for_any_value_operations_lets_decrypt_ride_along(
    tmp_path: Path,
) -> None:
    cond = {"ForAnyValue:StringEquals": {"kms:GrantOperations": ["Encrypt"]}}
    out = ask(world(tmp_path, [st({"AWS": APP}, "kms:CreateGrant", cond)]))[1]
    assert out["answer"] == "yes"
    step = out["counterexample"]["trace"][0]
    assert step["action"] == "kms:CreateGrant"
    assert {"Encrypt", "Decrypt"} <= set(step["parameters"]["Operations"])


def test_the_empty_set_pitfall_lets_decrypt_in_today(tmp_path: Path) -> None:
    # ForAllValues over a key Decrypt requests never carry is true: no step is needed (R6.8)
    partner = f"arn:aws:iam::{B}:role/Partner"
    cond = {"ForAllValues:StringEquals": {"kms:GrantOperations": ["Encrypt"]}}
    w = world(tmp_path, [st({"AWS": partner}, ["kms:CreateGrant", "kms:Decrypt"], cond)])
    code, out = ask(w, EVER, ROOT)
    assert code == 0 and out["answer"] == "yes"
    # the only step: B's administrators give Partner the identity policy it needs (R1.7)
    assert [s["action"] for s in out["counterexample"]["trace"]] == [
        "iam:PutRolePolicy",
        "kms:Decrypt",
    ]


def test_a_grant_made_grant_cannot_exceed_its_parent(tmp_path: Path) -> None:
    partner = f"arn:aws:iam::{B}:role/Partner"
    narrow = {
        "GrantId": "g0",
        "GranteePrincipal": partner,
        "Operations": ["CreateGrant", "Encrypt"],
    }
    out = ask(world(tmp_path, [], grants=[narrow]), EVER, ROOT)[1]
    assert out["answer"] == "no", out["reason"]
    wide = {**narrow, "Operations": ["CreateGrant", "Encrypt", "Decrypt"]}
    out = ask(
        world(tmp_path, [], grants=[wide]),
        "can any principal in account 777788889999 ever kms:Decrypt",
        ROOT,
    )[1]
    assert out["answer"] == "yes"
    first, final = out["counterexample"]["trace"]
    assert first["principal"].startswith(f"arn:aws:sts::{B}:assumed-role/Partner/")
    assert first["parameters"]["Operations"] == ["Decrypt"] or set(
        first["parameters"]["Operations"]
    ) <= {"CreateGrant", "Encrypt", "Decrypt"}
    assert final["principal"].split(":")[4] == "777788889999"


def test_replicating_a_multi_region_key_is_a_step(tmp_path: Path) -> None:
    w = world(tmp_path, [st({"AWS": APP}, "kms:ReplicateKey")])
    doc = json.loads(Path(w).read_text())
    mrk = f"arn:aws:kms:us-east-1:{A}:key/mrk-1234abcd12ab34cd56ef1234567890ab"
    doc["keys"][0].update(arn=mrk, multi_region=True, multi_region_key_type="PRIMARY")
    doc["accounts"][A]["principals"][APP] = {
        **ROLE,
        "policies": [
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "kms:CreateKey", "Resource": "*"}],
            }
        ],
    }
    Path(w).write_text(json.dumps(doc))
    code, out = ask(w, EVER, ROOT)
    assert code == 0 and out["answer"] == "yes", out["reason"]
    trace = out["counterexample"]["trace"]
    assert [s["action"] for s in trace] == ["kms:CreateKey", "kms:ReplicateKey", "kms:Decrypt"]
    replica = trace[-1]["key"]
    assert replica != mrk and replica.endswith(mrk.split(":")[-1])
    # without kms:CreateKey the replica cannot be made: the route is not a yes
    doc["accounts"][A]["principals"][APP] = ROLE
    Path(w).write_text(json.dumps(doc))
    assert ask(w, EVER, ROOT)[1]["answer"] != "yes"


def test_a_timeout_is_unknown_and_says_how_far_it_got(tmp_path: Path) -> None:
    w = world(
        tmp_path,
        [
            st(
                {"AWS": APP},
                "kms:CreateGrant",
                {"ForAllValues:StringEquals": {"kms:GrantOperations": ["Encrypt"]}},
            )
        ],
    )
    result = CliRunner().invoke(main, ["query", w, EVER, "--format", "json", "--timeout", "0.001"])
    out = json.loads(result.stdout)
    assert result.exit_code == 3 and out["answer"] == "unknown"
    assert "searched so far" in out["reason"]


def test_a_grant_that_carries_create_grant_is_a_step(tmp_path: Path) -> None:
    grant = {"GrantId": "g0", "GranteePrincipal": APP, "Operations": ["Decrypt", "CreateGrant"]}
    out = ask(world(tmp_path, [ADMIN_ST], grants=[grant]), EVER, ADMIN, ROOT)[1]
    assert (
        out["answer"] == "yes" and out["counterexample"]["trace"][0]["action"] == "kms:CreateGrant"
    )


def test_iam_self_edit_in_an_open_delegating_account(tmp_path: Path) -> None:
    reader = f"arn:aws:iam::{B}:role/Reader"
    accounts = {A: {"complete": True}, B: {"principals": {reader: {"policies": []}}}}
    w = world(tmp_path, [st({"AWS": reader}, "kms:Decrypt")], accounts=accounts)
    assert ask(w, f"can any principal outside account {A} kms:Decrypt")[1]["answer"] == "no"
    out = ask(w)[1]
    assert out["answer"] == "yes"
    assert out["counterexample"]["trace"][0]["action"] in ("iam:PutRolePolicy", "iam:PutUserPolicy")


def test_iam_writes_in_a_complete_delegating_account_are_explored(tmp_path: Path) -> None:
    dev = f"arn:aws:iam::{A}:user/dev"
    iam = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}],
    }
    accounts = {A: {"complete": True, "principals": {dev: {"policies": [iam]}}}}
    w = world(tmp_path, [st({"AWS": ROOT}, "kms:Decrypt")], accounts=accounts)
    # dev creates a role anyone may assume, gives it a policy, and an outsider uses it
    code, out = ask(w, EVER, ROOT)
    assert code == 0 and out["answer"] == "yes", out["reason"]
    trace = out["counterexample"]["trace"]
    assert [s["action"] for s in trace] == [
        "iam:CreateRole",
        "iam:PutRolePolicy",
        "sts:AssumeRole",
        "kms:Decrypt",
    ]
    assert trace[0]["principal"] == dev and trace[1]["principal"] == dev
    assert trace[2]["principal"].split(":")[4] != A
    # dev may write its own inline policy, within a boundary of that and kms:Decrypt:
    # it can give itself Decrypt, which stays inside the account
    own = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iam:PutUserPolicy", "Resource": dev}],
    }
    boundary = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["iam:PutUserPolicy", "kms:Decrypt"], "Resource": "*"}
        ],
    }
    accounts = {
        A: {"complete": True, "principals": {dev: {"policies": [own], "boundary": boundary}}}
    }
    w = world(tmp_path, [st({"AWS": ROOT}, "kms:Decrypt")], accounts=accounts)
    assert ask(w, EVER, ROOT)[1]["answer"] == "no"
    assert ask(w, f"can principal {dev} ever kms:Decrypt", ROOT)[1]["answer"] == "yes"
    assert ask(w, EVER, ROOT, dev)[1]["answer"] == "no"


def test_role_assumable_from_another_account_acts_for_it(tmp_path: Path) -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    accounts = {A: {"complete": True, "principals": {APP: {"trust_policy": trust}}}}
    assert (
        ask(
            world(tmp_path, [st({"AWS": APP}, "kms:Decrypt")], accounts=accounts),
            f"can any principal outside account {A} kms:Decrypt",
        )[1]["answer"]
        == "no"
    )
    code, out = ask(
        world(tmp_path, [st({"AWS": APP}, "kms:Decrypt")], accounts=accounts), EVER, ROOT
    )
    assert code == 0 and out["answer"] == "yes"
    step = out["counterexample"]["trace"][0]
    assert step["action"] == "sts:AssumeRole" and step["parameters"]["RoleArn"] == APP
    code, out = ask(
        world(tmp_path, [st({"AWS": APP}, "kms:Encrypt")], accounts=accounts), EVER, ROOT
    )
    assert out["answer"] == "no"  # the role itself cannot decrypt


def test_create_grant_limited_by_grantee_principal_grants_to_that_grantee(tmp_path: Path) -> None:
    partner = f"arn:aws:iam::{B}:role/Partner"
    cond = {"StringEquals": {"kms:GranteePrincipal": partner}}
    out = ask(world(tmp_path, [st({"AWS": APP}, "kms:CreateGrant", cond)]))[1]
    assert out["answer"] == "yes"
    step, final = out["counterexample"]["trace"]
    assert step["parameters"]["GranteePrincipal"] == partner
    assert (
        final["principal"].startswith(f"arn:aws:sts::{B}:assumed-role/Partner/")
        or final["principal"] == partner
    )
    # pinning the grantee to oneself is no limit: a self-grant carrying CreateGrant makes
    # further grants that the key policy's condition never sees (R4.6)
    inside = {"StringEquals": {"kms:GranteePrincipal": APP}}
    out = ask(world(tmp_path, [st({"AWS": APP}, "kms:CreateGrant", inside)]), EVER, ROOT)[1]
    assert out["answer"] == "yes"
    assert [s["action"] for s in out["counterexample"]["trace"]] == [
        "kms:CreateGrant",
        "kms:CreateGrant",
        "kms:Decrypt",
    ]
    no_relay = {
        "StringEquals": {"kms:GranteePrincipal": APP},
        "ForAllValues:StringEquals": {"kms:GrantOperations": ["Decrypt"]},
    }
    assert (
        ask(world(tmp_path, [st({"AWS": APP}, "kms:CreateGrant", no_relay)]), EVER, ROOT)[1][
            "answer"
        ]
        != "yes"
    )


def test_iam_self_edit_in_an_account_the_key_policy_ignores_changes_nothing(tmp_path: Path) -> None:
    other = f"arn:aws:iam::{B}:role/Other"
    accounts = {A: {"complete": True}, B: {"principals": {other: {"policies": []}}}}
    w = world(tmp_path, [st({"AWS": f"arn:aws:iam::{A}:root"}, "kms:Describe*")], accounts=accounts)
    assert ask(w)[1]["answer"] == "no"


def test_a_chain_of_grants_across_three_accounts(tmp_path: Path) -> None:
    """A (policy) -> B (a grant carrying CreateGrant) -> C. A longer chain is never the
    shortest: the holder of such a grant may grant to anyone (R4.6)."""
    c = "777788889999"
    partner = f"arn:aws:iam::{B}:role/Partner"
    cond = {"StringEquals": {"kms:GranteePrincipal": partner}}
    w = world(tmp_path, [st({"AWS": APP}, "kms:CreateGrant", cond)])
    code, out = ask(w, f"can any principal in account {c} ever kms:Decrypt", ROOT)
    assert code == 0 and out["answer"] == "yes", out["reason"]
    trace = out["counterexample"]["trace"]
    assert [s["action"] for s in trace] == ["kms:CreateGrant", "kms:CreateGrant", "kms:Decrypt"]
    assert trace[0]["parameters"]["GranteePrincipal"] == partner
    assert trace[1]["principal"].startswith(f"arn:aws:sts::{B}:assumed-role/Partner/")
    assert trace[2]["principal"].split(":")[4] == c


def test_retagging_the_key_under_an_abac_condition_is_unknown(tmp_path: Path) -> None:
    abac = st(
        {"AWS": f"arn:aws:iam::{A}:root"},
        "kms:Decrypt",
        {"StringEquals": {"aws:ResourceTag/team": "red"}},
    )
    w = world(tmp_path, [abac, st({"AWS": APP}, "kms:TagResource")])
    code, out = ask(w)
    assert code == 3 and "aws:resourcetag" in out["reason"]
    assert ask(w, EVER, APP, ROOT)[1]["answer"] == "no"  # nobody untrusted can retag

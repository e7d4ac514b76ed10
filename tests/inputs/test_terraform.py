"""`terraform show -json` output (plans and states) read as a world, through `read`:
what each resource becomes, where its policies' diagnostics point, how values known
only after apply are placed or left unsettled, and the account and Region."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kmsprove.inputs import ReadOptions, read
from kmsprove.inputs.terraform.place import placeholder_grant_id, placeholder_key_id
from kmsprove.syntax.embedded import literal_offsets
from kmsprove.world import World
from tests.support.terraform import (
    change,
    conf,
    const,
    doc,
    encoded,
    plan,
    ref,
    rendered,
    resource,
    st,
    state,
)

A = "123456789012"
B = "444455556666"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY = f"arn:aws:kms:eu-west-1:{A}:key/{KEY_ID}"
ROOT = st("Root", ["kms:*"], {"AWS": f"arn:aws:iam::{A}:root"})
UNKNOWN_KEY = {"arn": True, "id": True, "key_id": True}
DATA = FIXTURES = Path(__file__).parent.parent / "data" / "terraform"


def caller(account: str = A) -> dict[str, Any]:
    values = {"account_id": account, "arn": f"arn:aws:iam::{account}:user/ci", "id": account}
    return resource("aws_caller_identity", "current", values, mode="data")


def known_key(policy: dict[str, Any] | None = None, **over: Any) -> dict[str, Any]:
    after = {"arn": KEY, "key_id": KEY_ID, "id": KEY_ID, "policy": encoded(policy or doc(ROOT))}
    after.update(over)
    return change("aws_kms_key", "k", after, {}, ("no-op",), before=after)


def load(
    tmp: Path, document: dict[str, Any], options: ReadOptions | None = None
) -> tuple[World, list[str], str]:
    path = tmp / "plan.json"
    text = json.dumps(document, indent=2)
    path.write_text(text)
    loaded = read(str(path), None, options or ReadOptions())
    messages = [str(d) for d in loaded.diagnostics]
    assert loaded.kind == "world", messages
    assert not loaded.errors, messages
    assert isinstance(loaded.value, World)
    return loaded.value, messages, text


# --------------------------------------------------------------------------
# what the file is


def test_a_plan_and_a_state_are_worlds(tmp_path: Path) -> None:
    w, _, _ = load(tmp_path, plan([known_key()], [], {}))
    assert [k.arn for k in w.keys] == [KEY]
    w, _, _ = load(tmp_path, state([resource("aws_kms_key", "k", known_key()["change"]["after"])]))
    assert [k.arn for k in w.keys] == [KEY]


def test_format_version_alone_is_not_terraform(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"format_version": "1.0", "provider_schemas": {}}')
    loaded = read(str(path))
    assert loaded.kind == "" and "terraform show -json" in str(loaded.diagnostics[0])


def test_deleted_and_deposed_objects_are_gone(tmp_path: Path) -> None:
    gone = change("aws_kms_key", "old", None, None, ("delete",), before={"arn": KEY})
    deposed = known_key()
    deposed["deposed"] = "00000001"
    w, _, _ = load(tmp_path, plan([gone, deposed], [], {}))
    assert w.keys == ()


# --------------------------------------------------------------------------
# policies, where they stand


def test_statements_point_into_the_plan_file(tmp_path: Path) -> None:
    w, _, text = load(
        tmp_path, plan([known_key(doc(ROOT, st("Two", ["kms:Decrypt"], "*")))], [], {})
    )
    second = w.keys[0].policy.statements[1]
    lines = text.split("\n")
    # the statement's `{` inside the escaped string: its Sid follows it in the file
    at = lines[second.pos.line - 1][second.pos.col - 1 :]
    assert at.startswith('{\\"Sid\\":\\"Two\\"'), at


def test_literal_offsets_map_escapes_to_their_first_character() -> None:
    text = json.dumps({"p": 'a"\u00e9\U0001f600b'}, ensure_ascii=True)
    start = text.index(":") + 2
    offsets = literal_offsets(text, start)
    assert offsets is not None
    assert [text[o] for o in offsets] == ["a", "\\", "\\", "\\", "b", '"']


def test_an_aws_iam_policy_document_read_at_plan_time_settles_its_consumer(
    tmp_path: Path,
) -> None:
    policy = doc(ROOT, st("Partner", ["kms:Decrypt"], {"AWS": f"arn:aws:iam::{B}:root"}))
    data = resource("aws_iam_policy_document", "key", {"json": rendered(policy)}, mode="data")
    key = change("aws_kms_key", "k", {"is_enabled": True}, {**UNKNOWN_KEY, "policy": True})
    configuration = {
        "root_module": {
            "resources": [
                conf("aws_kms_key", "k", {"policy": ref("data.aws_iam_policy_document.key.json")})
            ]
        }
    }
    w, _, _ = load(tmp_path, plan([key], [data, caller()], configuration))
    assert w.unknowns == ()
    assert [s.sid for s in w.keys[0].policy.statements] == ["Root", "Partner"]
    assert w.keys[0].policy.statements[1].pos.file.endswith("plan.json")


@pytest.mark.parametrize("how", ["not configured", "null variable", "empty"])
def test_a_key_without_a_policy_gets_the_default_key_policy(tmp_path: Path, how: str) -> None:
    after: dict[str, Any] = {"is_enabled": True}
    unknown = {**UNKNOWN_KEY, "policy": True}
    exprs: dict[str, Any] = {}
    variables = None
    if how == "null variable":
        exprs = {"policy": ref("var.key_policy")}
        variables = {"key_policy": None}
    if how == "empty":
        after["policy"] = ""
        unknown = dict(UNKNOWN_KEY)
    configuration = {
        "root_module": {
            "resources": [conf("aws_kms_key", "k", exprs)],
            "variables": {"key_policy": {"default": None}},
        }
    }
    key = change("aws_kms_key", "k", after, unknown)
    w, _, _ = load(tmp_path, plan([key], [caller()], configuration, variables))
    (statement,) = w.keys[0].policy.statements
    assert statement.sid == "Enable IAM User Permissions" and w.unknowns == ()
    assert statement.principal is not None and f"arn:aws:iam::{A}:root" in str(statement.principal)


def test_aws_kms_key_policy_replaces_the_keys_own(tmp_path: Path) -> None:
    other = doc(st("Only", ["kms:*"], {"AWS": f"arn:aws:iam::{A}:role/admin"}))
    kp = change("aws_kms_key_policy", "k", {"key_id": KEY_ID, "policy": encoded(other)}, {})
    w, _, _ = load(tmp_path, plan([known_key(), kp], [], {}))
    assert [s.sid for s in w.keys[0].policy.statements] == ["Only"]


# --------------------------------------------------------------------------
# known only after apply


def test_a_new_keys_arn_is_a_placeholder_from_its_address(tmp_path: Path) -> None:
    key = change(
        "aws_kms_key", "k", {"policy": encoded(doc(ROOT)), "multi_region": True}, UNKNOWN_KEY
    )
    configuration = {
        "provider_config": {"aws": {"name": "aws", "expressions": {"region": const("ap-south-1")}}}
    }
    w, messages, _ = load(tmp_path, plan([key], [caller()], configuration))
    expected = f"arn:aws:kms:ap-south-1:{A}:key/{placeholder_key_id('aws_kms_key.k', True)}"
    assert [k.arn for k in w.keys] == [expected] and expected.split("/")[1].startswith("mrk-")
    assert any("known only after apply: kmsprove calls it" in m for m in messages)
    w2, _, _ = load(tmp_path, plan([key], [caller()], configuration))
    assert w2.keys[0].arn == expected  # the same address, the same name: diff compares them


def test_a_grant_to_a_role_named_in_the_plan_is_settled(tmp_path: Path) -> None:
    role = change("aws_iam_role", "app", {"name": "app", "path": "/svc/"}, {"arn": True})
    grant = change(
        "aws_kms_grant",
        "g",
        {"key_id": KEY_ID, "operations": ["Decrypt"], "constraints": []},
        {"grantee_principal": True, "grant_id": True},
    )
    configuration = {
        "root_module": {
            "resources": [
                conf(
                    "aws_kms_grant",
                    "g",
                    {"grantee_principal": ref("aws_iam_role.app.arn", "aws_iam_role.app")},
                )
            ]
        }
    }
    w, _, _ = load(tmp_path, plan([known_key(), role, grant], [caller()], configuration))
    (g,) = w.keys[0].grants
    assert g.grantee == f"arn:aws:iam::{A}:role/svc/app"
    assert g.grant_id == placeholder_grant_id("aws_kms_grant.g") and len(g.grant_id) == 64
    assert g.issuing_account == A and w.unknowns == ()


def test_an_unsettled_grantee_drops_the_grant_and_unsettles_its_key(tmp_path: Path) -> None:
    grant = change(
        "aws_kms_grant",
        "g",
        {"key_id": KEY, "operations": ["Decrypt"]},
        {"grantee_principal": True},
    )
    w, messages, text = load(tmp_path, plan([known_key(), grant], [], {}))
    assert w.keys[0].grants == ()
    (u,) = w.unknowns
    assert (
        u.key == KEY
        and "`aws_kms_grant.g`: `grantee_principal` is known only after apply" in u.reason
    )
    # it points at the attribute's `after_unknown` entry
    assert text.split("\n")[u.pos.line - 1].strip().startswith('"grantee_principal": true')
    assert any("unsettled:" in m for m in messages)


def test_an_unknown_identity_policy_unsettles_every_key(tmp_path: Path) -> None:
    role = change("aws_iam_role", "app", {"name": "app", "arn": f"arn:aws:iam::{A}:role/app"}, {})
    inline = change("aws_iam_role_policy", "p", {"role": "app", "name": "p"}, {"policy": True})
    w, _, _ = load(tmp_path, plan([known_key(), role, inline], [], {}))
    (u,) = w.unknowns
    assert u.key is None and "`aws_iam_role_policy.p`: `policy`" in u.reason


def test_the_plan_account_comes_from_the_caller_identity(tmp_path: Path) -> None:
    key = change("aws_kms_key", "k", {"policy": encoded(doc(ROOT))}, UNKNOWN_KEY)
    w, messages, _ = load(tmp_path, plan([key], [caller(B)], {}), ReadOptions(account=A))
    assert w.keys[0].account == B
    assert any(f"`--account {A}` ignored: the input says {B}" in m for m in messages)
    w, messages, _ = load(tmp_path, plan([key], [], {}))
    assert w.keys[0].account == "111122223333" and w.keys[0].region == "us-east-1"
    assert len(w.assumed) == 2 and any("assumed account 111122223333" in m for m in messages)
    w, _, _ = load(tmp_path, plan([key], [], {}), ReadOptions(account=A, region="sa-east-1"))
    assert w.keys[0].arn.startswith(f"arn:aws:kms:sa-east-1:{A}:key/") and w.assumed == ()


def test_a_replica_is_its_primary_in_another_region(tmp_path: Path) -> None:
    primary = change(
        "aws_kms_key",
        "p",
        {"policy": encoded(doc(ROOT)), "multi_region": True, "region": "us-east-1"},
        UNKNOWN_KEY,
    )
    replica = change(
        "aws_kms_replica_key",
        "r",
        {"policy": encoded(doc(ROOT)), "region": "eu-west-1"},
        {**UNKNOWN_KEY, "primary_key_arn": True},
    )
    configuration = {
        "root_module": {
            "resources": [
                conf(
                    "aws_kms_replica_key",
                    "r",
                    {"primary_key_arn": ref("aws_kms_key.p.arn", "aws_kms_key.p")},
                )
            ]
        }
    }
    w, _, _ = load(tmp_path, plan([primary, replica], [caller()], configuration))
    p, r = w.keys
    assert r.key_id == p.key_id and (p.region, r.region) == ("us-east-1", "eu-west-1")
    assert (p.multi_region_key_type, r.multi_region_key_type) == ("PRIMARY", "REPLICA")


def test_module_outputs_and_variables_are_followed(tmp_path: Path) -> None:
    """The replica of terraform-aws-kms's complete example names its primary through
    `var.primary_key_arn` = `module.kms_primary.key_arn`."""
    w, _, _ = load_fixture("kms-complete/plan.json")
    primary = next(k for k in w.keys if k.multi_region_key_type == "PRIMARY")
    replica = next(k for k in w.keys if k.multi_region_key_type == "REPLICA")
    assert replica.key_id == primary.key_id and replica.region == "eu-west-1"


def load_fixture(name: str) -> tuple[World, list[str], str]:
    loaded = read(str(FIXTURES / name))
    assert isinstance(loaded.value, World) and not loaded.errors
    return loaded.value, [str(d) for d in loaded.diagnostics], ""


# --------------------------------------------------------------------------
# IAM and S3


def test_principals_carry_their_documents(tmp_path: Path) -> None:
    w, messages, _ = load_fixture("iam-s3/plan.json")
    acct = w.accounts["333344445555"]
    reader = acct.principals["arn:aws:iam::333344445555:role/app/reader"]
    assert len(reader.policies) == 2 and reader.trust_policy is not None
    alice = acct.principals["arn:aws:iam::333344445555:user/alice"]
    assert alice.groups == ("analysts",) and len(alice.policies) == 1
    assert alice.tags == (("team", "analytics"),)
    # a principal holding an AWS managed policy the plan lacks stays open
    assert "arn:aws:iam::333344445555:role/ops" not in acct.principals
    assert any("AdministratorAccess" in m and "left out of the world" in m for m in messages)
    (bucket,) = w.buckets
    assert bucket.kms_key == w.keys[0].arn and bucket.bucket_key and bucket.policy is not None
    assert bucket.region == "eu-central-1" and bucket.account == "333344445555"


def test_a_boundary_in_the_plan_bounds_its_principal(tmp_path: Path) -> None:
    boundary_arn = f"arn:aws:iam::{A}:policy/cap"
    cap = change(
        "aws_iam_policy",
        "cap",
        {
            "arn": boundary_arn,
            "policy": encoded(doc({"Effect": "Allow", "Action": "kms:Describe*", "Resource": "*"})),
        },
        {},
    )
    user = change(
        "aws_iam_user",
        "u",
        {"name": "u", "arn": f"arn:aws:iam::{A}:user/u", "permissions_boundary": boundary_arn},
        {},
    )
    w, _, _ = load(tmp_path, plan([cap, user], [], {}))
    ident = w.accounts[A].principals[f"arn:aws:iam::{A}:user/u"]
    assert ident.boundary is not None and ident.policies == ()


def test_a_policy_that_is_not_a_string_is_an_error(tmp_path: Path) -> None:
    after = {"arn": KEY, "key_id": KEY_ID, "policy": doc(ROOT)}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan([change("aws_kms_key", "k", after, {})], [], {}), indent=2))
    loaded = read(str(path))
    assert [d.message for d in loaded.errors] == [
        "`policy` must be a string holding a policy, not an object"
    ]

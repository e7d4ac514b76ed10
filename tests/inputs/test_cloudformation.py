"""CloudFormation templates read as worlds (`kmsprove.inputs.cloudformation`): YAML with
positions, every intrinsic function, names as AWS builds them, the IAM and S3
resources, and every form that only deploy time settles (a stand-in that names nobody
and an `Unresolved` item against the right key)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kmsprove.errors import InputError
from kmsprove.inputs import load_world_notes, read
from kmsprove.inputs.cloudformation.names import generated_key_id, generated_name
from kmsprove.inputs.options import ReadOptions, read_options
from kmsprove.inputs.unresolved import STANDIN_ACTION, STANDIN_ROLE, fill
from kmsprove.syntax.json import parse_json
from kmsprove.syntax.tree import to_python
from kmsprove.syntax.yaml import parse_yaml
from kmsprove.world import World
from tests.support.templates import (
    CONDS,
    INTRINSICS,
    KEY_ARN,
    KEY_ID,
    PARAMS,
    ROOT,
    UNRESOLVED,
    A,
    allow,
    identity_doc,
    intrinsic_template,
    key_policy,
    role,
    template,
    unresolved_template,
)


def load(
    tmp: Path, doc: dict[str, Any] | str, name: str = "t.json", **options: Any
) -> tuple[World | None, list[str]]:
    path = tmp / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc, indent=1))
    opts = read_options(
        options.get("account"),
        options.get("region"),
        options.get("parameters", ()),
        options.get("physical_ids", ()),
    )
    loaded = read(str(path), None, opts)
    value = loaded.value if isinstance(loaded.value, World) and not loaded.errors else None
    return value, [str(d) for d in loaded.diagnostics]


def errors(lines: list[str]) -> list[str]:
    return [line for line in lines if ": error: " in line]


def principals_of(world: World) -> list[str]:
    return [p.value for s in world.keys[0].policy.statements for p in s.principal or ()]


def sole_value(world: World) -> str:
    """The principal of the test's one statement after the root's (an account as its
    root user's ARN, as the policy builder spells it)."""
    return principals_of(world)[1]


def root(account: str) -> str:
    return f"arn:aws:iam::{account}:root"


# --------------------------------------------------------------------------
# YAML


def test_yaml_short_forms_are_the_long_forms(tmp_path: Path) -> None:
    text = """\
Resources:
  K:
    Properties:
      A: !Ref X
      B: !GetAtt R.Arn
      C: !Sub 'a-${AWS::Region}'
      D: !Join [':', [a, !Ref Y]]
      E: !Select [0, !Split [',', 'a,b']]
      F: !If [C, !Base64 x, !GetAZs '']
      G: !ImportValue Shared
      H: !FindInMap [M, k, v]
      I: !Equals [!Not [!Condition C], !And [!Or [a, b], c]]
      J: !GetAtt [R, Arn]
"""
    got = to_python(parse_yaml(text, "t.yaml"))
    want = {
        "A": {"Ref": "X"},
        "B": {"Fn::GetAtt": ["R", "Arn"]},
        "C": {"Fn::Sub": "a-${AWS::Region}"},
        "D": {"Fn::Join": [":", ["a", {"Ref": "Y"}]]},
        "E": {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]},
        "F": {"Fn::If": ["C", {"Fn::Base64": "x"}, {"Fn::GetAZs": ""}]},
        "G": {"Fn::ImportValue": "Shared"},
        "H": {"Fn::FindInMap": ["M", "k", "v"]},
        "I": {
            "Fn::Equals": [
                {"Fn::Not": [{"Condition": "C"}]},
                {"Fn::And": [{"Fn::Or": ["a", "b"]}, "c"]},
            ]
        },
        "J": {"Fn::GetAtt": ["R", "Arn"]},
    }
    assert got["Resources"]["K"]["Properties"] == want


def test_yaml_scalars_keep_cloudformations_types() -> None:
    text = "Version: 2012-10-17\nN: 7\nB: true\nZ: null\nQ: '7'\nM:\n  111122223333: x\n"
    assert to_python(parse_yaml(text, "t.yaml")) == {
        "Version": "2012-10-17",
        "N": 7,
        "B": True,
        "Z": None,
        "Q": "7",
        "M": {"111122223333": "x"},
    }


def test_yaml_nodes_are_positioned_like_json(tmp_path: Path) -> None:
    yaml_text = 'a:\n  - b: !Ref c\n    d: "e"\n'
    node = parse_yaml(yaml_text, "t.yaml")
    item = node.get("a").items[0]  # type: ignore[union-attr]
    assert (item.pos.line, item.pos.col) == (2, 5)
    assert (item.get("b").pos.line, item.get("b").pos.col) == (2, 8)  # at the tag
    assert (item.members[1].key_pos.line, item.members[1].key_pos.col) == (3, 5)
    json_node = parse_json('{"a": [{"b": {"Ref": "c"}, "d": "e"}]}', "t.json")
    assert to_python(json_node) == to_python(node)


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("a: b: c\n", "1:5", "bad YAML: mapping values are not allowed here"),
        ("a: !Foo x\n", "1:4", "unknown tag `!Foo`"),
        ("a: 1\n---\nb: 2\n", "3:1", "more than one YAML document"),
        ("a: 1\na: 2\n", "2:1", "duplicate member `a`"),
        ("a: &x [*x]\n", "1:4", "recursive YAML alias"),
        ("a: !GetAtt nodot\n", "1:4", "`!GetAtt` takes `RESOURCE.ATTRIBUTE`"),
        ("? [a]\n: b\n", "1:3", "a mapping key must be plain text"),
    ],
)
def test_bad_yaml_is_a_positioned_error(
    tmp_path: Path, text: str, where: str, message: str
) -> None:
    world, diags = load(tmp_path, text, "t.yaml")
    assert world is None
    assert any(f"t.yaml:{where}: error: {message}" in d for d in diags), diags


# --------------------------------------------------------------------------
# intrinsic functions, each resolved


@pytest.mark.parametrize(("value", "want"), INTRINSICS)
def test_each_intrinsic_function_resolves(tmp_path: Path, value: Any, want: str) -> None:
    doc = intrinsic_template(value)
    world, diags = load(tmp_path, doc)
    assert world is not None and not errors(diags), diags
    assert sole_value(world) == (root(want) if want.isdigit() else want)
    assert world.unknowns == ()


def test_other_functions_resolve_where_they_are_static(tmp_path: Path) -> None:
    doc = template(
        allow(
            ROOT,
            Condition={
                "StringEquals": {
                    "kms:EncryptionContext:b64": {"Fn::Base64": "hi"},
                    "kms:EncryptionContext:n": {"Fn::Length": [1, 2, 3]},
                }
            },
        ),
        Resources={
            "Other": {
                "Type": "AWS::KMS::Key",
                "Properties": {"KeyPolicy": {"Fn::ToJsonString": key_policy()}},
            }
        },
    )
    world, diags = load(tmp_path, doc)
    assert world is not None and not errors(diags), diags
    cond = world.find_key(KEY_ARN).policy.statements[1].conditions  # type: ignore[union-attr]
    assert {c.key: c.values for c in cond} == {
        "kms:EncryptionContext:b64": ("aGk=",),
        "kms:EncryptionContext:n": ("3",),
    }
    assert len(world.keys) == 2


def test_sub_keeps_a_literal_and_policy_variables(tmp_path: Path) -> None:
    value = {"Fn::Sub": "${AWS::AccountId}/${!aws:username}"}
    stmt = allow(ROOT, Condition={"StringLike": {"aws:PrincipalTag/t": value}})
    world, diags = load(tmp_path, template(stmt))
    assert world is not None and not errors(diags), diags
    [cond] = world.keys[0].policy.statements[1].conditions
    assert cond.values == (f"{A}/${{aws:username}}",)


def test_no_value_leaves_the_property_out(tmp_path: Path) -> None:
    stmt = allow(
        ROOT,
        Condition={
            "Fn::If": ["No", {"Bool": {"aws:SecureTransport": "true"}}, {"Ref": "AWS::NoValue"}]
        },
    )
    world, diags = load(tmp_path, template(stmt, Parameters=PARAMS, Conditions=CONDS))
    assert world is not None and not errors(diags), diags
    assert world.keys[0].policy.statements[1].conditions == ()


def test_pseudo_parameters_take_the_options_and_say_the_defaults(tmp_path: Path) -> None:
    doc = template(
        allow(
            {
                "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${AWS::Region}.${AWS::URLSuffix}"
            }
        )
    )
    world, diags = load(tmp_path, doc)
    assert (
        world is not None and sole_value(world) == f"arn:aws:iam::{A}:role/us-east-1.amazonaws.com"
    )
    assert any("give --account" in d and "give --region" in d for d in diags)
    world, diags = load(tmp_path, doc, account="444455556666", region="cn-north-1")
    assert world is not None
    assert sole_value(world) == "arn:aws-cn:iam::444455556666:role/cn-north-1.amazonaws.com.cn"
    assert world.keys[0].arn.startswith("arn:aws-cn:kms:cn-north-1:444455556666:key/")
    assert not any("give --account" in d for d in diags)
    assert world.accounts["444455556666"].complete is False


def test_parameters_from_the_command_line(tmp_path: Path) -> None:
    doc = template(allow({"Fn::Sub": "arn:aws:iam::${P}:root"}), Parameters=PARAMS)
    world, _ = load(tmp_path, doc, parameters=["P=777788889999"])
    assert world is not None and sole_value(world) == "arn:aws:iam::777788889999:root"
    world, diags = load(tmp_path, doc, parameters=["Q=1"])
    assert world is None and any(
        "--parameter `Q`: the template has no such parameter" in d for d in diags
    )
    allowed = {"P": {"Type": "String", "AllowedValues": ["444455556666"]}}
    world, diags = load(
        tmp_path, template(allow({"Ref": "P"}), Parameters=allowed), parameters=["P=1"]
    )
    assert world is None and any("`1` is not one of its `AllowedValues`" in d for d in diags)


def test_stack_name_is_a_placeholder_said(tmp_path: Path) -> None:
    world, diags = load(
        tmp_path, template(allow({"Fn::Sub": f"arn:aws:iam::{A}:role/${{AWS::StackName}}"}))
    )
    assert world is not None and sole_value(world) == f"arn:aws:iam::{A}:role/kmsprove-stack"
    assert any("AWS::StackName is the placeholder `kmsprove-stack`" in d for d in diags)


# --------------------------------------------------------------------------
# names and ARNs as AWS builds them


def test_key_ids_are_derived_from_the_logical_id_or_given(tmp_path: Path) -> None:
    doc = template(
        Resources={
            "Multi": {"Type": "AWS::KMS::Key", "Properties": {"MultiRegion": True}},
            "Alias": {
                "Type": "AWS::KMS::Alias",
                "Properties": {"AliasName": "alias/app", "TargetKeyId": {"Ref": "Key"}},
            },
        }
    )
    world, diags = load(tmp_path, doc)
    assert world is not None
    multi = world.find_key(f"arn:aws:kms:us-east-1:{A}:key/{generated_key_id('Multi', True)}")
    assert multi is not None and multi.key_id.startswith("mrk-") and multi.multi_region
    assert multi.multi_region_key_type == "PRIMARY"
    assert world.find_key("alias/app") is world.find_key(KEY_ARN)
    assert any(f"kmsprove uses `{KEY_ID}`" in d and "--physical-id Key=KEY_ID" in d for d in diags)
    given = "1234abcd-12ab-34cd-56ef-1234567890ab"
    world, _ = load(tmp_path, doc, physical_ids=[f"Key={given}"])
    assert world is not None and world.find_key("alias/app").key_id == given  # type: ignore[union-attr]


def test_names_are_generated_when_the_template_gives_none(tmp_path: Path) -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    resources = {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": trust}},
        "User": {"Type": "AWS::IAM::User", "Properties": {"Path": "/people/"}},
        "Named": {"Type": "AWS::IAM::User", "Properties": {"UserName": "bob"}},
    }
    doc = template(
        allow({"Fn::GetAtt": ["Role", "Arn"]}),
        allow({"Fn::GetAtt": ["User", "Arn"]}),
        allow({"Fn::GetAtt": ["Named", "Arn"]}),
        Resources=resources,
    )
    world, diags = load(tmp_path, doc)
    assert world is not None
    role, user, named = principals_of(world)[1:]
    assert role == f"arn:aws:iam::{A}:role/{generated_name('Role', 64)}"
    assert role.split("/")[-1].startswith("kmsprove-stack-Role-")
    assert user == f"arn:aws:iam::{A}:user/people/{generated_name('User', 64)}"
    assert named == f"arn:aws:iam::{A}:user/bob"
    assert sorted(world.accounts[A].principals) == sorted([role, user, named])
    assert any("`Role` has no `RoleName`: CloudFormation generates one" in d for d in diags)
    world, _ = load(tmp_path, doc, physical_ids=["Role=deployed-role"])
    assert world is not None and principals_of(world)[1] == f"arn:aws:iam::{A}:role/deployed-role"


def test_long_generated_names_keep_their_suffix() -> None:
    name = generated_name("L" * 80, 64)
    assert len(name) == 64 and name[-13] == "-"
    bucket = generated_name("MyBucket", 63, lower=True)
    assert bucket == bucket.lower() and bucket.startswith("kmsprove-stack-mybucket-")


# --------------------------------------------------------------------------
# IAM, S3


def test_principals_gather_every_document_attached_to_them(tmp_path: Path) -> None:
    resources = {
        "Boundary": {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {"PolicyDocument": identity_doc("kms:*")},
        },
        "Shared": {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {
                "ManagedPolicyName": "shared",
                "PolicyDocument": identity_doc("kms:Encrypt"),
                "Groups": [{"Ref": "Team"}],
            },
        },
        "App": role(
            RoleName="app",
            Policies=[{"PolicyName": "inline", "PolicyDocument": identity_doc()}],
            ManagedPolicyArns=[{"Ref": "Shared"}],
            PermissionsBoundary={"Ref": "Boundary"},
            Tags=[{"Key": "team", "Value": "red"}],
        ),
        "Extra": {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "PolicyName": "x",
                "PolicyDocument": identity_doc("kms:GenerateDataKey"),
                "Roles": [{"Ref": "App"}],
            },
        },
        "Team": {
            "Type": "AWS::IAM::Group",
            "Properties": {
                "GroupName": "team",
                "Policies": [{"PolicyName": "g", "PolicyDocument": identity_doc("kms:Sign")}],
            },
        },
        "Alice": {"Type": "AWS::IAM::User", "Properties": {"UserName": "alice"}},
        "Join": {
            "Type": "AWS::IAM::UserToGroupAddition",
            "Properties": {"GroupName": {"Ref": "Team"}, "Users": [{"Ref": "Alice"}]},
        },
        "RolePolicy": {
            "Type": "AWS::IAM::RolePolicy",
            "Properties": {
                "PolicyName": "rp",
                "RoleName": {"Ref": "App"},
                "PolicyDocument": identity_doc("kms:Verify"),
            },
        },
    }
    world, diags = load(tmp_path, template(Resources=resources))
    assert world is not None and not errors(diags), diags
    principals = world.accounts[A].principals
    app = principals[f"arn:aws:iam::{A}:role/app"]
    actions = sorted(a for p in app.policies for s in p.statements for a in s.action or ())
    assert actions == ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:Verify"]
    assert app.boundary is not None and app.boundary.statements[0].action == ("kms:*",)
    assert app.tags == (("team", "red"),) and app.trust_policy is not None
    alice = principals[f"arn:aws:iam::{A}:user/alice"]
    assert alice.groups == ("team",)
    assert sorted(a for p in alice.policies for s in p.statements for a in s.action or ()) == [
        "kms:Encrypt",
        "kms:Sign",
    ]
    assert world.accounts[A].complete is False


def test_a_principal_with_a_document_the_template_lacks_is_left_out(tmp_path: Path) -> None:
    managed = {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
            ],
        ]
    }
    resources = {
        "Fn": role(RoleName="fn", ManagedPolicyArns=[managed]),
        "Bounded": role(
            RoleName="bounded", PermissionsBoundary="arn:aws:iam::111122223333:policy/elsewhere"
        ),
        "Member": {
            "Type": "AWS::IAM::User",
            "Properties": {"UserName": "m", "Groups": ["outside"]},
        },
        "Kept": role(RoleName="kept"),
        "Stray": {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "PolicyName": "s",
                "PolicyDocument": identity_doc(),
                "Roles": ["not-here"],
            },
        },
    }
    world, diags = load(tmp_path, template(Resources=resources))
    assert world is not None and not errors(diags), diags
    assert list(world.accounts[A].principals) == [f"arn:aws:iam::{A}:role/kept"]
    text = "\n".join(diags)
    assert "AWSLambdaBasicExecutionRole`, whose document is not in this template: left out" in text
    assert "permissions boundary `arn:aws:iam::111122223333:policy/elsewhere`" in text
    assert "group `outside`" in text
    assert "is attached to role `not-here`, which is not in this template" in text
    assert world.unknowns == ()  # left out is sound: the account is open


def test_buckets_with_their_default_keys_and_policies(tmp_path: Path) -> None:
    def bucket(key: Any) -> dict[str, Any]:
        rule = {
            "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key},
            "BucketKeyEnabled": True,
        }
        return {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "BucketName": {"Fn::Sub": "b-${AWS::AccountId}-" + str(len(str(key)))},
                "BucketEncryption": {"ServerSideEncryptionConfiguration": [rule]},
            },
        }

    bp = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": ROOT},
                "Action": "s3:GetObject",
                "Resource": {"Fn::Sub": "${ById.Arn}/*"},
            }
        ],
    }
    resources = {
        "Alias": {
            "Type": "AWS::KMS::Alias",
            "Properties": {
                "AliasName": "alias/data",
                "TargetKeyId": {"Fn::GetAtt": ["Key", "Arn"]},
            },
        },
        "ById": bucket({"Ref": "Key"}),
        "ByArn": bucket({"Fn::GetAtt": ["Key", "Arn"]}),
        "ByAlias": bucket("alias/data"),
        "Outside": bucket(
            "arn:aws:kms:us-east-1:444455556666:key/0987dcba-09fe-87dc-65ba-ab0987654321"
        ),
        "Policy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {"Bucket": {"Ref": "ById"}, "PolicyDocument": bp},
        },
    }
    world, diags = load(tmp_path, template(Resources=resources))
    assert world is not None and not errors(diags), diags
    keys = {b.name: b.kms_key for b in world.buckets}
    inside = [k for n, k in keys.items() if "0987" not in str(k)]
    assert inside and all(k == KEY_ARN for k in inside)
    assert (
        "arn:aws:kms:us-east-1:444455556666:key/0987dcba-09fe-87dc-65ba-ab0987654321"
        in keys.values()
    )
    assert all(b.bucket_key and b.account == A for b in world.buckets)
    with_policy = [b for b in world.buckets if b.policy is not None]
    assert len(with_policy) == 1 and with_policy[0].name == f"b-{A}-14"


def test_key_properties_and_the_default_key_policy(tmp_path: Path) -> None:
    doc = {
        "Resources": {
            "Key": {
                "Type": "AWS::KMS::Key",
                "Properties": {
                    "KeySpec": "RSA_2048",
                    "KeyUsage": "SIGN_VERIFY",
                    "Enabled": False,
                    "Tags": [{"Key": "team", "Value": "red"}],
                },
            },
        }
    }
    world, diags = load(tmp_path, doc)
    assert world is not None and not errors(diags), diags
    key = world.keys[0]
    assert (key.key_spec, key.key_usage, key.state, key.tags) == (
        "RSA_2048",
        "SIGN_VERIFY",
        "Disabled",
        (("team", "red"),),
    )
    [default] = key.policy.statements
    assert default.principal[0].value == f"arn:aws:iam::{A}:root" and default.action == ("kms:*",)  # type: ignore[index]


def test_conditions_decide_which_resources_exist(tmp_path: Path) -> None:
    doc = template(
        Parameters=PARAMS,
        Conditions=CONDS,
        Resources={"Gone": {"Type": "AWS::KMS::Key", "Condition": "No", "Properties": {}}},
    )
    world, diags = load(tmp_path, doc)
    assert world is not None and [k.key_id for k in world.keys] == [KEY_ID]
    assert not any("key `Gone`" in d for d in diags)
    gone = {"Gone": doc["Resources"]["Gone"]}
    bad = template(
        allow({"Fn::GetAtt": ["Gone", "Arn"]}), Parameters=PARAMS, Conditions=CONDS, Resources=gone
    )
    world, diags = load(tmp_path, bad)
    assert world is None and any("the template does not create `Gone`" in d for d in diags)


# --------------------------------------------------------------------------
# what only deploy time settles


@pytest.mark.parametrize(("value", "reason", "params"), UNRESOLVED)
def test_unresolved_values_name_nobody_and_make_the_key_unknown(
    tmp_path: Path, value: Any, reason: str, params: dict[str, Any]
) -> None:
    doc = unresolved_template(value, params)
    world, diags = load(tmp_path, doc)
    assert world is not None and not errors(diags), diags
    [u] = list(world.unknowns)
    assert reason in u.reason and u.key == KEY_ARN
    assert f"t.json:{u.pos.line}:{u.pos.col}" in u.reason  # the construct's place in the template
    assert any(
        f"unsettled: {u.reason}; answers about key {KEY_ARN} are unknown" in d for d in diags
    )
    shown = sole_value(world)
    assert (
        shown in (STANDIN_ROLE, "arn:aws:iam::444455556666:root")
        or "kmsprove-unresolved" in shown
        or "000000000000" in shown
    )
    assert not any(
        "kmsprove-unresolved" in d or "KmsproveUnresolved" in d
        for d in diags
        if "unsettled" not in d
    )


@pytest.mark.parametrize(
    ("element", "value"),
    [
        ("Action", {"Fn::ImportValue": "Ops"}),
        ("Action", {"Fn::Sub": "kms:${Empty}"}),
        ("Resource", {"Fn::ImportValue": "Arn"}),
        ("Resource", {"Fn::Sub": "arn:aws:kms:us-east-1:${Empty}:key/*"}),
        ("Condition", {"IpAddress": {"aws:SourceIp": {"Ref": "Empty"}}}),
        ("Condition", {"Bool": {"aws:SecureTransport": {"Ref": "Empty"}}}),
        (
            "Condition",
            {"NumericLessThan": {"kms:ScheduleKeyDeletionPendingWindowInDays": {"Ref": "Empty"}}},
        ),
        ("Condition", {"DateLessThan": {"aws:CurrentTime": {"Ref": "Empty"}}}),
        ("Condition", {"ArnLike": {"aws:PrincipalArn": {"Ref": "Empty"}}}),
        ("Condition", {"StringEquals": {"aws:PrincipalOrgID": [{"Ref": "Empty"}, "o-a"]}}),
        ("Condition", {"StringEquals": {"Ref": "Empty"}}),
        ("Condition", {"Ref": "Empty"}),
        ("Principal", {"Ref": "Empty"}),
        ("Principal", {"Service": {"Fn::Sub": "${Empty}.amazonaws.com"}}),
        ("Sid", {"Ref": "Empty"}),
    ],
)
def test_stand_ins_fit_every_place_in_a_policy(tmp_path: Path, element: str, value: Any) -> None:
    stmt = allow(ROOT)
    stmt[element] = value
    params = {"Empty": {"Type": "String"}}
    world, diags = load(tmp_path, template(stmt, Parameters=params))
    assert world is not None and not errors(diags), diags
    assert [u.key for u in world.unknowns] == [KEY_ARN]


def test_a_whole_unknown_key_policy_allows_nobody(tmp_path: Path) -> None:
    doc = {
        "Resources": {
            "Key": {
                "Type": "AWS::KMS::Key",
                "Properties": {"KeyPolicy": {"Fn::ImportValue": "Policy"}},
            }
        }
    }
    world, diags = load(tmp_path, doc)
    assert world is not None and not errors(diags), diags
    [s] = world.keys[0].policy.statements
    assert s.action == (STANDIN_ACTION,) and s.principal[0].value == STANDIN_ROLE  # type: ignore[index]


def test_unknowns_in_identity_documents_concern_every_key(tmp_path: Path) -> None:
    resources = {
        "App": role(
            RoleName="app",
            Policies=[
                {
                    "PolicyName": "p",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": "kms:Decrypt",
                                "Resource": {"Fn::ImportValue": "KeyArn"},
                            }
                        ],
                    },
                }
            ],
        )
    }
    world, diags = load(tmp_path, template(Resources=resources))
    assert world is not None and not errors(diags)
    [u] = world.unknowns
    assert u.key is None and "`Fn::ImportValue KeyArn`" in u.reason


def test_a_name_an_unknown_rests_on_is_unknown_for_every_key_that_uses_it(tmp_path: Path) -> None:
    named = role(RoleName={"Fn::ImportValue": "RoleName"})
    other = {
        "Type": "AWS::KMS::Key",
        "Properties": {"KeyPolicy": key_policy(allow({"Fn::GetAtt": ["Role", "Arn"]}))},
    }
    world, _ = load(
        tmp_path,
        template(allow({"Fn::GetAtt": ["Role", "Arn"]}), Resources={"Role": named, "Other": other}),
    )
    assert world is not None
    keys = {u.key for u in world.unknowns}
    assert keys == {KEY_ARN, world.keys[1].arn, None}  # both key policies, and the role itself


def test_macros_and_expansions_are_unknown(tmp_path: Path) -> None:
    for transform, unknown in (
        ("AWS::Include", True),
        ("Custom::Macro", True),
        ("AWS::Serverless-2016-10-31", False),
        ("AWS::LanguageExtensions", False),
    ):
        world, diags = load(tmp_path, template(Transform=transform))
        assert world is not None and not errors(diags)
        assert bool(world.unknowns) is unknown, transform
    world, _ = load(
        tmp_path,
        {
            "Transform": "AWS::LanguageExtensions",
            "Resources": {"Fn::ForEach::Keys": ["X", ["a"], {}], **template()["Resources"]},
        },
    )
    assert world is not None and "`Fn::ForEach::Keys`" in world.unknowns[0].reason


def test_under_a_transform_a_missing_name_is_unknown_not_an_error(tmp_path: Path) -> None:
    sam = template(
        allow({"Fn::GetAtt": ["FunctionRole", "Arn"]}), Transform="AWS::Serverless-2016-10-31"
    )
    world, diags = load(tmp_path, sam)
    assert world is not None and not errors(diags), diags
    assert [u.key for u in world.unknowns] == [KEY_ARN]
    assert "`Fn::GetAtt FunctionRole.Arn`" in world.unknowns[0].reason


def test_fill_keeps_each_shape() -> None:
    from kmsprove.inputs.unresolved import MARK

    assert fill(f"arn:aws:iam::{MARK}:root", "principal") == "arn:aws:iam::000000000000:root"
    assert fill(MARK, "principal") == STANDIN_ROLE
    assert fill(f"kms:{MARK}", "action") == "kms:KmsproveUnresolved"
    assert fill(MARK, "Ip") == "192.0.2.0/32"
    assert fill(f"team-{MARK}") == "team-kmsprove-unresolved"


# --------------------------------------------------------------------------
# bad templates


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (
            template(allow({"Ref": "Missing"})),
            "`Ref` to `Missing`: no parameter or resource of that name",
        ),
        (template(allow({"Fn::Magic": "x"})), "unknown intrinsic function `Fn::Magic`"),
        (
            template(allow({"Fn::Joinn": ["", []]})),
            "unknown intrinsic function `Fn::Joinn` (did you mean `Fn::Join`?)",
        ),
        (
            template(allow({"Fn::GetAtt": ["Nope", "Arn"]})),
            "`Fn::GetAtt` of `Nope`: no resource of that name",
        ),
        (template(allow({"Fn::GetAtt": ["Key", "Nope"]})), "AWS::KMS::Key has no attribute `Nope`"),
        (
            template(allow({"Fn::Select": [5, ["a"]]})),
            "`Fn::Select` index 5 is past the list's 1 items",
        ),
        (template(allow({"Fn::Equals": ["a", "a"]})), "`Fn::Equals` is a condition function"),
        (template(allow({"Fn::If": ["Nope", "a", "b"]})), "no condition `Nope` in `Conditions`"),
        (
            template(allow({"Fn::FindInMap": ["M", "a", "b"]}), Mappings={"M": {"x": {"b": "c"}}}),
            "`Fn::FindInMap`: no `a` in the mapping",
        ),
        (
            template(
                allow({"Fn::If": ["Loop", "a", "b"]}), Conditions={"Loop": {"Condition": "Loop"}}
            ),
            "condition `Loop` depends on itself",
        ),
        (template(allow({"Fn::Sub": "${Nope}"})), "`Ref` to `Nope`"),
        (
            template(Resourcez={}),
            "unknown template section `Resourcez` (did you mean `Resources`?)",
        ),
        ({"Resources": {"K": {"Properties": {}}}}, "resource `K` needs a `Type` string"),
        (
            template(
                Resources={
                    "A": {
                        "Type": "AWS::KMS::Alias",
                        "Properties": {"AliasName": "aliases/x", "TargetKeyId": {"Ref": "Key"}},
                    }
                }
            ),
            "`AliasName` `aliases/x` must start with `alias/`",
        ),
        (
            template(Resources={"R": {"Type": "AWS::IAM::Role", "Properties": {}}}),
            "AWS::IAM::Role `R` needs `AssumeRolePolicyDocument`",
        ),
        (
            template(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": ROOT},
                    "Action": "kms:Decrypt",
                    "Resource": "*",
                    "Condition": {"StringEqualz": {"a:b": "c"}},
                }
            ),
            "unknown condition operator `StringEqualz`",
        ),
    ],
)
def test_bad_templates_are_positioned_errors(
    tmp_path: Path, doc: dict[str, Any], message: str
) -> None:
    world, diags = load(tmp_path, doc)
    assert world is None
    assert any("t.json:" in d and message in d for d in errors(diags)), diags


def test_a_yaml_file_that_is_no_template_says_so(tmp_path: Path) -> None:
    world, diags = load(tmp_path, "a: 1\n", "t.yaml")
    assert world is None and diags == [
        f"{tmp_path / 't.yaml'}:1:1: error: a YAML file is read as a CloudFormation template, but this one has no `Resources` or `AWSTemplateFormatVersion`"
    ]


def test_template_options_for_a_world_file_are_an_error(tmp_path: Path) -> None:
    path = tmp_path / "w.json"
    path.write_text(json.dumps({"version": 1}))
    with pytest.raises(InputError) as caught:
        load_world_notes(path, ReadOptions(account=A))
    assert [str(d) for d in caught.value.diagnostics] == [
        "<cli>:1:1: error: --account, --region, --parameter and --physical-id read a"
        f" CloudFormation template; `{path}` is not one"
    ]

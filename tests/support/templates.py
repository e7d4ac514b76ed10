"""Small CloudFormation templates for tests: a key whose policy lets the account's root
in plus the statements a test gives, and tables of intrinsic functions with the values
they resolve to, and of forms only deploy time settles."""

from __future__ import annotations

from typing import Any

from kmsprove.inputs.cloudformation.names import generated_key_id

A = "111122223333"
ROOT = {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
KEY_ID = generated_key_id("Key", False)
KEY_ARN = f"arn:aws:kms:us-east-1:{A}:key/{KEY_ID}"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def key_policy(*statements: dict[str, Any]) -> dict[str, Any]:
    root = {"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:*", "Resource": "*"}
    return {"Version": "2012-10-17", "Statement": [root, *statements]}


def allow(principal: Any, **extra: Any) -> dict[str, Any]:
    s = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "kms:Decrypt"}
    s.update({"Resource": "*", **extra})
    return s


def template(*statements: dict[str, Any], **sections: Any) -> dict[str, Any]:
    resources = sections.pop("Resources", {})
    key = {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": key_policy(*statements)}}
    return {"Resources": {"Key": key, **resources}, **sections}


def role(**props: Any) -> dict[str, Any]:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    return {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": trust, **props}}


def identity_doc(action: str = "kms:Decrypt") -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}],
    }


PARAMS = {
    "P": {"Type": "String", "Default": "444455556666"},
    "L": {"Type": "CommaDelimitedList", "Default": "x,777788889999"},
}
MAPS = {"Accounts": {"prod": {"id": "777788889999"}}}
CONDS = {
    "Yes": {"Fn::Equals": [{"Ref": "P"}, "444455556666"]},
    "No": {"Fn::Not": [{"Condition": "Yes"}]},
}


CONDS_BOTH = {
    **CONDS,
    "Both": {
        "Fn::And": [
            {"Condition": "Yes"},
            {"Fn::Or": [{"Condition": "Yes"}, {"Condition": "No"}]},
        ]
    },
}
APP_ROLE = {
    "Type": "AWS::IAM::Role",
    "Properties": {"RoleName": "app", "Path": "/team/", "AssumeRolePolicyDocument": TRUST},
}
# (a principal written with intrinsic functions, what it resolves to: an account or an ARN)
INTRINSICS: list[tuple[Any, str]] = [
    ({"Ref": "P"}, "444455556666"),
    ({"Fn::Sub": "arn:aws:iam::${P}:root"}, "arn:aws:iam::444455556666:root"),
    (
        {"Fn::Sub": ["arn:aws:iam::${X}:root", {"X": {"Ref": "P"}}]},
        "arn:aws:iam::444455556666:root",
    ),
    (
        {
            "Fn::Join": [
                "",
                ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "P"}, ":root"],
            ]
        },
        "arn:aws:iam::444455556666:root",
    ),
    ({"Fn::Select": [1, {"Ref": "L"}]}, "777788889999"),
    ({"Fn::Select": ["0", {"Fn::Split": ["|", "444455556666|x"]}]}, "444455556666"),
    ({"Fn::FindInMap": ["Accounts", "prod", "id"]}, "777788889999"),
    (
        {"Fn::FindInMap": ["Accounts", "test", "id", {"DefaultValue": "444455556666"}]},
        "444455556666",
    ),
    ({"Fn::If": ["Yes", "444455556666", "777788889999"]}, "444455556666"),
    ({"Fn::If": ["No", "444455556666", "777788889999"]}, "777788889999"),
    ({"Fn::If": ["Both", "444455556666", "777788889999"]}, "444455556666"),
    ({"Fn::GetAtt": ["Role", "Arn"]}, f"arn:aws:iam::{A}:role/team/app"),
    ({"Fn::GetAtt": "Role.Arn"}, f"arn:aws:iam::{A}:role/team/app"),
    ({"Fn::Sub": "${Role.Arn}"}, f"arn:aws:iam::{A}:role/team/app"),
    (
        {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:role/team/${Role}"},
        f"arn:aws:iam::{A}:role/team/app",
    ),
    (
        {"Fn::Select": [0, {"Fn::Split": [",", {"Fn::Join": [",", ["777788889999", "a"]]}]}]},
        "777788889999",
    ),
]


def intrinsic_template(value: Any) -> dict[str, Any]:
    """A template whose key lets `value` (from `INTRINSICS`) decrypt."""
    return template(
        allow(value),
        Parameters=PARAMS,
        Mappings=MAPS,
        Conditions=CONDS_BOTH,
        Resources={"Role": APP_ROLE},
    )


# (a value only deploy time settles, what its reason names, the parameters it needs)
UNRESOLVED = [
    ({"Fn::ImportValue": "SharedRoleArn"}, "`Fn::ImportValue SharedRoleArn`", {}),
    (
        {"Ref": "Ssm"},
        "SSM parameter `/shared/role`",
        {"Ssm": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/shared/role"}},
    ),
    (
        {"Ref": "Empty"},
        "parameter `Empty` has no value and no `Default`",
        {"Empty": {"Type": "String"}},
    ),
    ("{{resolve:ssm:/shared/role}}", "`{{resolve:ssm:/shared/role}}`", {}),
    ({"Fn::Sub": "arn:aws:iam::{{resolve:ssm:/acct}}:root"}, "`{{resolve:ssm:/acct}}`", {}),
    ({"Fn::GetAtt": ["Role", "RoleId"]}, "`Fn::GetAtt Role.RoleId`", {}),
    ({"Fn::GetAtt": ["Fn", "Arn"]}, "kmsprove does not model AWS::Lambda::Function", {}),
    ({"Ref": "Topic"}, "`Ref Topic`", {}),
    ({"Fn::Select": [0, {"Fn::GetAZs": ""}]}, "`Fn::GetAZs`", {}),
    ({"Fn::Select": [0, {"Fn::Cidr": ["10.0.0.0/16", 2, 8]}]}, "`Fn::Cidr`", {}),
    ({"Fn::Transform": {"Name": "Macro"}}, "`Fn::Transform`", {}),
    ({"Fn::Select": [0, {"Ref": "AWS::NotificationARNs"}]}, "`Ref AWS::NotificationARNs`", {}),
    (
        {"Fn::If": ["Unknown", "arn:aws:iam::444455556666:root", "arn:aws:iam::777788889999:root"]},
        "parameter `Empty` has no value",
        {"Empty": {"Type": "String"}},
    ),
]
OTHERS = {
    "Role": role(RoleName="r"),
    "Fn": {"Type": "AWS::Lambda::Function", "Properties": {}},
    "Topic": {"Type": "AWS::SNS::Topic", "Properties": {}},
}


def unresolved_template(value: Any, params: dict[str, Any]) -> dict[str, Any]:
    """A template whose key lets `value` (from `UNRESOLVED`) decrypt."""
    conds = {"Unknown": {"Fn::Equals": [{"Ref": "Empty"}, "x"]}}
    return template(allow(value), Parameters=params, Conditions=conds, Resources=OTHERS)

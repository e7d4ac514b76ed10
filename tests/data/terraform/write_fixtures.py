"""Writes the Terraform fixtures of this folder (run by hand: `python
tests/data/terraform/write_fixtures.py`; the suite reads the files, never this script).

Each fixture is a `terraform show -json` document written after the format
(https://developer.hashicorp.com/terraform/internals/json-format) for a public example
(README.md says which), and beside it the world a person would write by hand for the
same intent. The policies are transcribed once from the module's source, as Python
literals: the plan carries them as JSON strings (as `aws_iam_policy_document` renders
them, or compact as `jsonencode` does), the world as documents. What the plan knows
only after apply is what Terraform leaves unknown for that configuration.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parents[2]))

from kmsprove.inputs.terraform.place import placeholder_grant_id, placeholder_key_id  # noqa: E402
from tests.support.terraform import (  # noqa: E402
    PROVIDER,
    change,
    conf,
    const,
    doc,
    encoded,
    key_arn,
    plan,
    ref,
    rendered,
    resource,
    st,
    state,
    world,
)


def write(folder: str, name: str, value: dict[str, Any]) -> None:
    path = HERE / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2) + "\n")


# --------------------------------------------------------------------------
# terraform-aws-modules/terraform-aws-kms, examples/complete (v4.2.0)

A = "210987654321"
ME = f"arn:aws:iam::{A}:user/terraform"  # local.current_identity
ASG = (
    f"arn:aws:iam::{A}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
)
GRANT_IS_FOR_AWS = {"Bool": {"kms:GrantIsForAWSResource": "true"}}
ADMIN = [
    "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
    "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource",
    "kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
    "kms:ReplicateKey", "kms:ImportKeyMaterial",
]  # fmt: skip
USE = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]


def default_st() -> dict[str, Any]:
    return st("Default", ["kms:*"], {"AWS": f"arn:aws:iam::{A}:root"})


def complete_policy() -> dict[str, Any]:
    me = {"AWS": ME}
    return doc(
        default_st(),
        st("KeyOwner", ["kms:*"], me),
        st("KeyAdministration", ADMIN, me),
        st("KeyUsage", USE, me),
        st(
            "KeyServiceUsage",
            ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
            me,
            GRANT_IS_FOR_AWS,
        ),
        st("KeyServiceRolesASG", USE, {"AWS": ASG}),
        st("KeyServiceRolesASGPersistentVol", ["kms:CreateGrant"], {"AWS": ASG}, GRANT_IS_FOR_AWS),
        st(
            "KeySymmetricEncryption",
            [
                "kms:Decrypt",
                "kms:DescribeKey",
                "kms:Encrypt",
                "kms:GenerateDataKey*",
                "kms:ReEncrypt*",
            ],
            me,
        ),
        st("KeyHMAC", ["kms:DescribeKey", "kms:GenerateMac", "kms:VerifyMac"], me),
        st(
            "KeyAsymmetricPublicEncryption",
            ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:DescribeKey", "kms:GetPublicKey"],
            me,
        ),
        st(
            "KeyAsymmetricSignVerify",
            ["kms:DescribeKey", "kms:GetPublicKey", "kms:Sign", "kms:Verify"],
            me,
        ),
        st(
            "CloudWatchLogs",
            [
                "kms:Encrypt*",
                "kms:Decrypt*",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:Describe*",
            ],
            {"Service": "logs.us-east-1.amazonaws.com"},
            {
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:us-east-1:{A}:log-group:*"
                }
            },
        ),
    )


def dnssec_policy() -> dict[str, Any]:
    service = {"Service": "dnssec-route53.amazonaws.com"}
    return doc(
        default_st(),
        st("Route53DnssecService", ["kms:DescribeKey", "kms:GetPublicKey", "kms:Sign"], service),
        st(
            "Route53DnssecGrant",
            ["kms:CreateGrant"],
            service,
            {
                "ArnLike": {"aws:SourceArn": "arn:aws:route53:::hostedzone/*"},
                "Bool": {"kms:GrantIsForAWSResource": "true"},
                "StringEquals": {"aws:SourceAccount": A},
            },
        ),
    )


def replica_policy() -> dict[str, Any]:
    me = {"AWS": ME}
    return doc(
        default_st(),
        st("KeyOwner", ["kms:*"], me),
        st("KeyAdministration", ADMIN, me),
        st("KeyUsage", USE, me),
    )


TAGS = {
    "Name": "kms-ex-complete",
    "Example": "complete",
    "Repository": "https://github.com/terraform-aws-modules/terraform-aws-kms",
}
KEY_ONLY_AFTER_APPLY = {"arn": True, "id": True, "key_id": True}
MODULE_KEY_REFS = (
    "aws_kms_key.this[0].key_id", "aws_kms_key.this[0]", "aws_kms_key.this",
    "aws_kms_external_key.this[0].id", "aws_kms_external_key.this[0]", "aws_kms_external_key.this",
    "aws_kms_replica_key.this[0].key_id", "aws_kms_replica_key.this[0]", "aws_kms_replica_key.this",
    "aws_kms_replica_external_key.this[0].key_id", "aws_kms_replica_external_key.this[0]",
    "aws_kms_replica_external_key.this",
)  # fmt: skip
LAMBDA_TRUST = doc(
    {
        "Effect": "Allow",
        "Action": "sts:AssumeRole",
        "Principal": {"Service": "lambda.amazonaws.com"},
    }
)
GRANT_OPS = ["Decrypt", "Encrypt", "GenerateDataKey"]
FINANCE = [
    {"encryption_context_equals": {"Department": "Finance"}, "encryption_context_subset": None}
]


def kms_key_after(policy: dict[str, Any], **over: Any) -> dict[str, Any]:
    after: dict[str, Any] = {
        "bypass_policy_lockout_safety_check": False,
        "custom_key_store_id": None,
        "customer_master_key_spec": "SYMMETRIC_DEFAULT",
        "deletion_window_in_days": 7,
        "description": None,
        "enable_key_rotation": False,
        "is_enabled": True,
        "key_usage": "ENCRYPT_DECRYPT",
        "multi_region": False,
        "policy": rendered(policy),
        "region": "us-east-1",
        "rotation_period_in_days": None,
        "tags": TAGS,
        "tags_all": TAGS,
        "timeouts": None,
        "xks_key_id": None,
    }
    after.update(over)
    return after


def module_config(policy_ref: bool = True, replica: bool = False) -> dict[str, Any]:
    """The module's own configuration (v4.2.0 main.tf), as much as the reader reads."""
    key_exprs = {
        "policy": ref(
            "var.policy",
            "data.aws_iam_policy_document.this[0].json",
            "data.aws_iam_policy_document.this[0]",
            "data.aws_iam_policy_document.this",
        ),
        "region": ref("var.region"),
    }
    resources = [
        conf("aws_kms_key", "this", key_exprs, count_expression=ref("var.create")),
        conf(
            "aws_kms_replica_key",
            "this",
            {**key_exprs, "primary_key_arn": ref("var.primary_key_arn")},
            count_expression=ref("var.create"),
        ),
        conf(
            "aws_kms_alias",
            "this",
            {
                "name": ref("var.aliases_use_name_prefix", "each.value.name", "each.value"),
                "name_prefix": ref("var.aliases_use_name_prefix", "each.value.name", "each.value"),
                "target_key_id": ref(*MODULE_KEY_REFS),
            },
            for_each_expression=ref("local.aliases", "var.computed_aliases", "var.create"),
        ),
        conf(
            "aws_kms_grant",
            "this",
            {
                "grantee_principal": ref("each.value.grantee_principal", "each.value"),
                "key_id": ref(*MODULE_KEY_REFS),
                "name": ref("each.value.name", "each.value", "each.key"),
                "operations": ref("each.value.operations", "each.value"),
                "retiring_principal": ref("each.value.retiring_principal", "each.value"),
                "constraints": [],
            },
            for_each_expression=ref("var.create", "var.grants"),
        ),
        conf("aws_caller_identity", "current", {}, mode="data", count_expression=ref("var.create")),
        conf("aws_partition", "current", {}, mode="data", count_expression=ref("var.create")),
        conf(
            "aws_iam_policy_document", "this", {}, mode="data", count_expression=ref("var.create")
        ),
    ]
    outputs = {
        "key_arn": {
            "expression": ref(
                "aws_kms_key.this[0].arn",
                "aws_kms_key.this[0]",
                "aws_kms_key.this",
                "aws_kms_external_key.this[0].arn",
                "aws_kms_external_key.this[0]",
                "aws_kms_external_key.this",
                "aws_kms_replica_key.this[0].arn",
                "aws_kms_replica_key.this[0]",
                "aws_kms_replica_key.this",
                "aws_kms_replica_external_key.this[0].arn",
                "aws_kms_replica_external_key.this[0]",
                "aws_kms_replica_external_key.this",
            )
        },
    }
    variables = {
        "policy": {"default": None},
        "region": {"default": None},
        "primary_key_arn": {"default": None},
        "grants": {"default": {}},
    }
    return {"resources": resources, "outputs": outputs, "variables": variables}


def kms_complete() -> None:
    mods = ["kms_complete", "kms_default", "kms_dnssec_signing", "kms_primary", "kms_replica"]
    data: list[dict[str, Any]] = [
        resource(
            "aws_caller_identity",
            "current",
            {"account_id": A, "arn": ME, "id": A, "user_id": "AIDACKCEVSQ6C2EXAMPLE"},
            mode="data",
        )
    ]
    for m in mods:
        mod = f"module.{m}"
        data.append(
            resource(
                "aws_caller_identity",
                "current",
                {"account_id": A, "arn": ME, "id": A, "user_id": "AIDACKCEVSQ6C2EXAMPLE"},
                mod,
                0,
                "data",
            )
        )
        data.append(
            resource(
                "aws_partition",
                "current",
                {
                    "dns_suffix": "amazonaws.com",
                    "id": "aws",
                    "partition": "aws",
                    "reverse_dns_prefix": "com.amazonaws",
                },
                mod,
                0,
                "data",
            )
        )
    policies = {
        "kms_complete": complete_policy(),
        "kms_default": doc(default_st()),
        "kms_dnssec_signing": dnssec_policy(),
        "kms_primary": doc(default_st()),
        "kms_replica": replica_policy(),
    }
    for m, p in policies.items():
        data.append(
            resource(
                "aws_iam_policy_document",
                "this",
                {"id": "0000", "json": rendered(p), "version": "2012-10-17"},
                f"module.{m}",
                0,
                "data",
            )
        )
    role_after = {
        "assume_role_policy": encoded(LAMBDA_TRUST),
        "description": None,
        "force_detach_policies": False,
        "max_session_duration": 3600,
        "name_prefix": "kms-ex-complete",
        "path": "/",
        "permissions_boundary": None,
        "tags": None,
    }
    role_unknown = {
        "arn": True,
        "create_date": True,
        "id": True,
        "inline_policy": True,
        "managed_policy_arns": True,
        "name": True,
        "tags_all": True,
        "unique_id": True,
    }
    changes = [change("aws_iam_role", "lambda", role_after, role_unknown)]
    for m in ("kms_complete", "kms_default", "kms_dnssec_signing", "kms_primary"):
        over: dict[str, Any] = {}
        if m == "kms_dnssec_signing":
            over = {
                "key_usage": "SIGN_VERIFY",
                "customer_master_key_spec": "ECC_NIST_P256",
                "description": "CMK for Route53 DNSSEC signing",
            }
        if m == "kms_primary":
            over = {"multi_region": True, "description": "Primary key of replica key example"}
        changes.append(
            change(
                "aws_kms_key",
                "this",
                kms_key_after(policies[m], **over),
                dict(KEY_ONLY_AFTER_APPLY),
                module=f"module.{m}",
                index=0,
            )
        )
    replica_after = {
        "bypass_policy_lockout_safety_check": False,
        "deletion_window_in_days": 7,
        "description": "Replica key example showing various configurations available",
        "enabled": True,
        "policy": rendered(policies["kms_replica"]),
        "region": "eu-west-1",
        "tags": TAGS,
        "tags_all": TAGS,
    }
    changes.append(
        change(
            "aws_kms_replica_key",
            "this",
            replica_after,
            {
                **KEY_ONLY_AFTER_APPLY,
                "primary_key_arn": True,
                "key_rotation_enabled": True,
                "key_spec": True,
                "key_usage": True,
            },
            module="module.kms_replica",
            index=0,
        )
    )
    alias_unknown = {
        "arn": True,
        "id": True,
        "name": True,
        "target_key_arn": True,
        "target_key_id": True,
    }
    for m, names, prefix in (
        ("kms_complete", ["ex", "foo/bar", "one"], True),
        ("kms_dnssec_signing", ["route53/dnssec-ex"], False),
        ("kms_primary", ["primary-standard"], False),
        ("kms_replica", ["ex", "replica-standard"], False),
    ):
        for n in names:
            computed = n == "ex"  # name = aws_iam_role.lambda.name: known after apply
            after: dict[str, Any] = {"region": "eu-west-1" if m == "kms_replica" else "us-east-1"}
            unknown = dict(alias_unknown)
            if prefix:
                after.update(name=None, name_prefix=f"alias/{'ex' if computed else n}-")
                if computed:
                    after["name_prefix"] = None
                    unknown["name_prefix"] = True
            elif computed:
                after.update(name_prefix=None)
            else:
                after.update(name=f"alias/{n}", name_prefix=None)
                del unknown["name"]
            changes.append(
                change("aws_kms_alias", "this", after, unknown, module=f"module.{m}", index=n)
            )
    grant_unknown = {
        "constraints": [{"encryption_context_equals": {}}],
        "grant_id": True,
        "grant_token": True,
        "grantee_principal": True,
        "id": True,
        "key_id": True,
    }
    for m in ("kms_complete", "kms_replica"):
        after = {
            "constraints": FINANCE,
            "grant_creation_tokens": None,
            "name": "lambda",
            "operations": GRANT_OPS,
            "region": "eu-west-1" if m == "kms_replica" else "us-east-1",
            "retire_on_delete": False,
            "retiring_principal": None,
        }
        changes.append(
            change(
                "aws_kms_grant", "this", after, grant_unknown, module=f"module.{m}", index="lambda"
            )
        )
    calls = {}
    for m in mods:
        exprs: dict[str, Any] = {"tags": ref("local.tags")}
        if m == "kms_replica":
            exprs["primary_key_arn"] = ref("module.kms_primary.key_arn", "module.kms_primary")
            exprs["region"] = ref("local.region_secondary")
            exprs["create_replica"] = const(True)
        if m in ("kms_complete", "kms_replica"):
            exprs["grants"] = ref("aws_iam_role.lambda.arn", "aws_iam_role.lambda")
        calls[m] = {"source": "../..", "expressions": exprs, "module": module_config()}
    configuration = {
        "provider_config": {
            "aws": {
                "name": "aws",
                "full_name": PROVIDER,
                "version_constraint": ">= 6.0.0",
                "expressions": {"region": ref("local.region")},
            }
        },
        "root_module": {
            "resources": [
                conf(
                    "aws_iam_role",
                    "lambda",
                    {"assume_role_policy": {}, "name_prefix": ref("local.name")},
                ),
                conf("aws_caller_identity", "current", {}, mode="data"),
            ],
            "module_calls": calls,
        },
    }
    write("kms-complete", "plan.json", plan(changes, data, configuration))

    # the world a person writes for it: the same keys, named as the plan's reader names
    # them (placeholders derived from their addresses), and what apply alone settles
    def pid(m: str, multi: bool = False) -> str:
        return placeholder_key_id(f"module.{m}.aws_kms_key.this[0]", multi)

    arns = {
        m: key_arn("us-east-1", A, pid(m, m == "kms_primary"))
        for m in policies
        if m != "kms_replica"
    }
    arns["kms_replica"] = key_arn("eu-west-1", A, pid("kms_primary", True))
    keys = [
        {"arn": arns["kms_complete"], "policy": policies["kms_complete"], "tags": TAGS},
        {"arn": arns["kms_default"], "policy": policies["kms_default"], "tags": TAGS},
        {
            "arn": arns["kms_dnssec_signing"],
            "policy": policies["kms_dnssec_signing"],
            "key_spec": "ECC_NIST_P256",
            "key_usage": "SIGN_VERIFY",
            "aliases": ["alias/route53/dnssec-ex"],
            "tags": TAGS,
        },
        {
            "arn": arns["kms_primary"],
            "policy": policies["kms_primary"],
            "multi_region": True,
            "multi_region_key_type": "PRIMARY",
            "aliases": ["alias/primary-standard"],
            "tags": TAGS,
        },
        {
            "arn": arns["kms_replica"],
            "policy": policies["kms_replica"],
            "multi_region": True,
            "multi_region_key_type": "REPLICA",
            "aliases": ["alias/replica-standard"],
            "tags": TAGS,
        },
    ]
    unknowns = [
        {
            "key": arns["kms_complete"],
            "reason": "the grant's grantee is the role `aws_iam_role.lambda`, named only at apply (`name_prefix`)",
        },
        {
            "key": arns["kms_replica"],
            "reason": "the grant's grantee is the role `aws_iam_role.lambda`, named only at apply (`name_prefix`)",
        },
    ]
    write("kms-complete", "world.json", world(keys, unknowns=unknowns))

    # after apply: `terraform show -json` of the state
    ids = {
        "kms_complete": "6a5e2c3f-1b4d-4e8a-9c7b-0d1e2f3a4b5c",
        "kms_default": "7b6f3d40-2c5e-4f9b-8d8c-1e2f3a4b5c6d",
        "kms_dnssec_signing": "8c704e51-3d6f-4a0c-9e9d-2f3a4b5c6d7e",
        "kms_primary": "mrk-9d815f623e704b1daf0e3a4b5c6d7e8f",
    }
    sarns = {m: key_arn("us-east-1", A, i) for m, i in ids.items()}
    sarns["kms_replica"] = key_arn("eu-west-1", A, ids["kms_primary"])
    role = "kms-ex-complete20261130120000000000000001"
    role_arn = f"arn:aws:iam::{A}:role/{role}"
    res: list[dict[str, Any]] = [
        r for r in data if r["address"] == "data.aws_caller_identity.current"
    ]
    res.append(
        resource(
            "aws_iam_role",
            "lambda",
            {
                **role_after,
                "arn": role_arn,
                "name": role,
                "id": role,
                "unique_id": "AROAEXAMPLEEXAMPLE0001",
                "inline_policy": [{"name": "", "policy": ""}],
                "managed_policy_arns": [],
                "tags_all": {},
            },
        )
    )
    for c in changes:
        if c["type"] in ("aws_kms_key", "aws_kms_replica_key"):
            m = c["module_address"].split(".")[1]
            key_id = sarns[m].rsplit("/", 1)[1]
            v = {**c["change"]["after"], "arn": sarns[m], "id": key_id, "key_id": key_id}
            if c["type"] == "aws_kms_replica_key":
                v.update(
                    primary_key_arn=sarns["kms_primary"],
                    key_spec="SYMMETRIC_DEFAULT",
                    key_usage="ENCRYPT_DECRYPT",
                )
            res.append(resource(c["type"], "this", v, c["module_address"], 0))
    aliases: dict[str, list[str]] = {}
    for c in changes:
        if c["type"] == "aws_kms_alias":
            m = c["module_address"].split(".")[1]
            n = c["index"]
            name = f"alias/{role}" if n == "ex" else c["change"]["after"].get("name")
            if name is None:
                name = f"alias/{n}-20261130120000000000000002"
            aliases.setdefault(m, []).append(name)
            v = {
                **c["change"]["after"],
                "name": name,
                "arn": f"arn:aws:kms:{c['change']['after']['region']}:{A}:{name}",
                "id": name,
                "target_key_id": sarns[m].rsplit("/", 1)[1],
                "target_key_arn": sarns[m],
            }
            res.append(resource("aws_kms_alias", "this", v, c["module_address"], n))
    grants: dict[str, dict[str, Any]] = {}
    for n, c in enumerate(c for c in changes if c["type"] == "aws_kms_grant"):
        m = c["module_address"].split(".")[1]
        gid = f"{n + 1:x}" * 64
        v = {
            **c["change"]["after"],
            "grant_id": gid[:64],
            "grantee_principal": role_arn,
            "key_id": sarns[m].rsplit("/", 1)[1],
            "id": f"{sarns[m].rsplit('/', 1)[1]}:{gid[:64]}",
            "grant_token": "AQpAM2RhZTk1MGMyNTk2ZmZmMzEyYWVhOWViN2I1MWM4Mzc0MWFiYjc0ZDE1ODkyNGFlNTIzODZhMzgyZjBlNGY3NiKIAgEBAgB4Pa6VDCWW__MSrqnre1HIN0Grt00ViSSuUjhqOC8OT3YAAADfMIHcBgkqhkiG9w0BBwaggc4wgcsCAQAwgcUGCSqGSIb3DQEHATAeBglghkgBZQMEAS4wEQQMnmWBOJpAgSF-RgZOAgEQgIGXqRWuEXAMPLE",
        }
        res.append(resource("aws_kms_grant", "this", v, c["module_address"], "lambda"))
        grants[m] = {
            "GrantId": gid[:64],
            "Name": "lambda",
            "GranteePrincipal": role_arn,
            "Operations": GRANT_OPS,
            "Constraints": {"EncryptionContextEquals": {"Department": "Finance"}},
            "IssuingAccount": f"arn:aws:iam::{A}:root",
        }
    write("kms-complete", "state.json", state(res))
    skeys = []
    for k, m in zip(
        keys,
        ("kms_complete", "kms_default", "kms_dnssec_signing", "kms_primary", "kms_replica"),
        strict=True,
    ):
        skeys.append(
            {
                **k,
                "arn": sarns[m],
                "aliases": aliases.get(m, []),
                "grants": [grants[m]] if m in grants else [],
            }
        )
    accounts = {A: {"principals": {role_arn: {"policies": [], "trust_policy": LAMBDA_TRUST}}}}
    write("kms-complete", "state-world.json", world(skeys, accounts=accounts))


# --------------------------------------------------------------------------
# cloudposse/terraform-aws-kms-key, examples/complete


def cloudposse() -> None:
    after = {
        "bypass_policy_lockout_safety_check": False,
        "custom_key_store_id": None,
        "customer_master_key_spec": "SYMMETRIC_DEFAULT",
        "deletion_window_in_days": 7,
        "description": "Test KMS key",
        "enable_key_rotation": False,
        "is_enabled": True,
        "key_usage": "ENCRYPT_DECRYPT",
        "multi_region": False,
        "tags": {"Name": "eg-test-kms-key-test", "Namespace": "eg", "Stage": "test"},
        "tags_all": {"Name": "eg-test-kms-key-test", "Namespace": "eg", "Stage": "test"},
        "timeouts": None,
        "xks_key_id": None,
    }
    changes = [
        change(
            "aws_kms_key",
            "default",
            after,
            {**KEY_ONLY_AFTER_APPLY, "policy": True, "rotation_period_in_days": True},
            module="module.kms_key",
            index=0,
        ),
        change(
            "aws_kms_alias",
            "default",
            {"name": "alias/eg-test-kms-key-test", "name_prefix": None},
            {"arn": True, "id": True, "target_key_arn": True, "target_key_id": True},
            module="module.kms_key",
            index=0,
        ),
    ]
    module = {
        "resources": [
            conf(
                "aws_kms_key",
                "default",
                {
                    "customer_master_key_spec": ref("var.customer_master_key_spec"),
                    "deletion_window_in_days": ref("var.deletion_window_in_days"),
                    "description": ref("var.description"),
                    "enable_key_rotation": ref("var.enable_key_rotation"),
                    "key_usage": ref("var.key_usage"),
                    "multi_region": ref("var.multi_region"),
                    "policy": ref("var.policy"),
                    "tags": ref("module.this.tags", "module.this"),
                },
                count_expression=ref("module.this.enabled", "module.this"),
            ),
            conf(
                "aws_kms_alias",
                "default",
                {
                    "name": ref("var.alias", "module.this.id", "module.this"),
                    "target_key_id": ref("aws_kms_key.default"),
                },
                count_expression=ref("module.this.enabled", "module.this"),
            ),
        ],
        "variables": {
            "policy": {
                "default": "",
                "description": "A valid KMS policy JSON document. Note that if the policy document is not specific enough (but still valid), Terraform may view the policy as constantly changing in a terraform plan. In this case, please make sure you use the verbose/specific version of the policy.",
            },
            "alias": {"default": ""},
            "description": {"default": "Parameter Store KMS master key"},
        },
    }
    configuration = {
        "provider_config": {
            "aws": {
                "name": "aws",
                "full_name": PROVIDER,
                "expressions": {"region": ref("var.region")},
            }
        },
        "root_module": {
            "module_calls": {
                "kms_key": {
                    "source": "../../",
                    "expressions": {
                        "context": ref("module.this.context", "module.this"),
                        "deletion_window_in_days": const(7),
                        "description": const("Test KMS key"),
                        "enable_key_rotation": const(False),
                    },
                    "module": module,
                }
            },
            "variables": {"region": {"description": "AWS region"}},
        },
    }
    variables = {
        "region": "us-east-2",
        "namespace": "eg",
        "stage": "test",
        "name": "kms-key-test",
        "enabled": True,
    }
    write("cloudposse-kms-key", "plan.json", plan(changes, [], configuration, variables))
    arn = key_arn(
        "us-east-2",
        "111122223333",
        placeholder_key_id("module.kms_key.aws_kms_key.default[0]", False),
    )
    default = doc(
        {
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    )
    default["Id"] = "key-default-1"
    write(
        "cloudposse-kms-key",
        "world.json",
        world(
            [
                {
                    "arn": arn,
                    "policy": default,
                    "aliases": ["alias/eg-test-kms-key-test"],
                    "tags": after["tags"],
                }
            ]
        ),
    )


# --------------------------------------------------------------------------
# the AWS provider's documentation example for aws_kms_grant


GRANT_TRUST_HEREDOC = """{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Action": "sts:AssumeRole",
      "Principal": {
        "Service": "lambda.amazonaws.com"
      },
      "Effect": "Allow",
      "Sid": ""
    }
  ]
}
"""


def kms_grant() -> None:
    key_after = {
        "bypass_policy_lockout_safety_check": False,
        "custom_key_store_id": None,
        "customer_master_key_spec": "SYMMETRIC_DEFAULT",
        "deletion_window_in_days": None,
        "description": None,
        "enable_key_rotation": False,
        "is_enabled": True,
        "key_usage": "ENCRYPT_DECRYPT",
        "tags": None,
        "timeouts": None,
        "xks_key_id": None,
    }
    role_after = {
        "assume_role_policy": GRANT_TRUST_HEREDOC,
        "description": None,
        "force_detach_policies": False,
        "max_session_duration": 3600,
        "name": "iam-role-for-grant",
        "path": "/",
        "permissions_boundary": None,
        "tags": None,
    }
    grant_after = {
        "constraints": FINANCE,
        "grant_creation_tokens": None,
        "name": "my-grant",
        "operations": GRANT_OPS,
        "retire_on_delete": False,
        "retiring_principal": None,
    }
    changes = [
        change(
            "aws_iam_role",
            "a",
            role_after,
            {
                "arn": True,
                "create_date": True,
                "id": True,
                "inline_policy": True,
                "managed_policy_arns": True,
                "name_prefix": True,
                "tags_all": True,
                "unique_id": True,
            },
        ),
        change(
            "aws_kms_grant",
            "a",
            grant_after,
            {
                "constraints": [{"encryption_context_equals": {}}],
                "grant_id": True,
                "grant_token": True,
                "grantee_principal": True,
                "id": True,
                "key_id": True,
            },
        ),
        change(
            "aws_kms_key",
            "a",
            key_after,
            {
                **KEY_ONLY_AFTER_APPLY,
                "multi_region": True,
                "policy": True,
                "rotation_period_in_days": True,
                "tags_all": True,
            },
        ),
    ]
    configuration = {
        "provider_config": {
            "aws": {
                "name": "aws",
                "full_name": PROVIDER,
                "expressions": {"region": const("us-west-2")},
            }
        },
        "root_module": {
            "resources": [
                conf(
                    "aws_iam_role",
                    "a",
                    {
                        "assume_role_policy": const(GRANT_TRUST_HEREDOC),
                        "name": const("iam-role-for-grant"),
                    },
                ),
                conf(
                    "aws_kms_grant",
                    "a",
                    {
                        "constraints": [
                            {"encryption_context_equals": const({"Department": "Finance"})}
                        ],
                        "grantee_principal": ref("aws_iam_role.a.arn", "aws_iam_role.a"),
                        "key_id": ref("aws_kms_key.a.key_id", "aws_kms_key.a"),
                        "name": const("my-grant"),
                        "operations": const(GRANT_OPS),
                    },
                ),
                conf("aws_kms_key", "a", {}),
            ]
        },
    }
    write("kms-grant", "plan.json", plan(changes, [], configuration))
    acct = "111122223333"
    arn = key_arn("us-west-2", acct, placeholder_key_id("aws_kms_key.a", False))
    role = f"arn:aws:iam::{acct}:role/iam-role-for-grant"
    default = doc(
        {
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{acct}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    )
    grant = {
        "GrantId": placeholder_grant_id("aws_kms_grant.a"),
        "Name": "my-grant",
        "GranteePrincipal": role,
        "Operations": GRANT_OPS,
        "Constraints": {"EncryptionContextEquals": {"Department": "Finance"}},
        "IssuingAccount": acct,
    }
    accounts = {
        acct: {
            "principals": {role: {"policies": [], "trust_policy": json.loads(GRANT_TRUST_HEREDOC)}}
        }
    }
    write(
        "kms-grant",
        "world.json",
        world([{"arn": arn, "policy": default, "grants": [grant]}], accounts=accounts),
    )


# --------------------------------------------------------------------------
# a policy change to an existing key, its readers and its bucket (an update plan)

B = "333344445555"
R = "eu-central-1"
DATA_KEY = key_arn(R, B, "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0")
BUCKET = f"example-data-{B}"


def iam_s3() -> None:
    reader = f"arn:aws:iam::{B}:role/app/reader"
    key_old = doc(st("Root", ["kms:*"], {"AWS": f"arn:aws:iam::{B}:root"}))
    key_new = doc(
        st("Root", ["kms:*"], {"AWS": f"arn:aws:iam::{B}:root"}),
        st(
            "ReadersThroughS3",
            ["kms:Decrypt"],
            {"AWS": reader},
            {"StringEquals": {"kms:ViaService": f"s3.{R}.amazonaws.com"}},
        ),
    )
    key_id = DATA_KEY.rsplit("/", 1)[1]
    key_state = kms_key_after(
        key_old,
        region=R,
        tags={"team": "data"},
        tags_all={"team": "data"},
        arn=DATA_KEY,
        id=key_id,
        key_id=key_id,
        description="data at rest",
    )
    key_after = {**key_state, "policy": encoded(key_new)}
    ec2_trust = doc(
        {
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Principal": {"Service": "ec2.amazonaws.com"},
        }
    )
    read_objects = doc(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"}
    )
    decrypt = doc({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": DATA_KEY})
    use = doc(
        {"Effect": "Allow", "Action": ["kms:Encrypt", "kms:GenerateDataKey"], "Resource": DATA_KEY}
    )

    def role(name: str, path: str, inline: list[dict[str, str]]) -> dict[str, Any]:
        arn = f"arn:aws:iam::{B}:role{path}{name}"
        return {
            "arn": arn,
            "assume_role_policy": encoded(ec2_trust),
            "id": name,
            "inline_policy": inline or [{"name": "", "policy": ""}],
            "managed_policy_arns": [],
            "max_session_duration": 3600,
            "name": name,
            "name_prefix": "",
            "path": path,
            "permissions_boundary": None,
            "tags": {},
            "tags_all": {},
            "unique_id": f"AROA{name.upper():0<17}",
        }

    def noop(rtype: str, name: str, v: dict[str, Any]) -> dict[str, Any]:
        return change(rtype, name, v, {}, ("no-op",), before=v)

    reader_v = role("reader", "/app/", [{"name": "read-objects", "policy": encoded(read_objects)}])
    policy_arn = f"arn:aws:iam::{B}:policy/kms-use"
    bucket_policy = doc(
        {
            "Sid": "TLSOnly",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "Readers",
            "Effect": "Allow",
            "Principal": {"AWS": reader},
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/*",
        },
    )
    changes = [
        change("aws_kms_key", "data", key_after, {}, ("update",), before=key_state),
        noop(
            "aws_kms_alias",
            "data",
            {
                "arn": f"arn:aws:kms:{R}:{B}:alias/data",
                "id": "alias/data",
                "name": "alias/data",
                "name_prefix": "",
                "target_key_arn": DATA_KEY,
                "target_key_id": key_id,
            },
        ),
        noop("aws_iam_role", "reader", reader_v),
        noop(
            "aws_iam_role_policy",
            "reader_kms",
            {
                "id": "reader:kms",
                "name": "kms",
                "name_prefix": "",
                "policy": encoded(decrypt),
                "role": "reader",
            },
        ),
        noop("aws_iam_role", "writer", role("writer", "/", [])),
        noop(
            "aws_iam_policy",
            "kms_use",
            {
                "arn": policy_arn,
                "description": "",
                "id": policy_arn,
                "name": "kms-use",
                "name_prefix": "",
                "path": "/",
                "policy": encoded(use),
                "policy_id": "ANPAEXAMPLE0000000001",
                "tags": {},
                "tags_all": {},
            },
        ),
        noop(
            "aws_iam_role_policy_attachment",
            "writer_kms",
            {"id": "writer-2026", "policy_arn": policy_arn, "role": "writer"},
        ),
        noop("aws_iam_role", "ops", role("ops", "/", [])),
        noop(
            "aws_iam_role_policy_attachment",
            "ops_admin",
            {
                "id": "ops-2026",
                "policy_arn": "arn:aws:iam::aws:policy/AdministratorAccess",
                "role": "ops",
            },
        ),
        noop(
            "aws_iam_user",
            "alice",
            {
                "arn": f"arn:aws:iam::{B}:user/alice",
                "force_destroy": False,
                "id": "alice",
                "name": "alice",
                "path": "/",
                "permissions_boundary": None,
                "tags": {"team": "analytics"},
                "tags_all": {"team": "analytics"},
                "unique_id": "AIDAEXAMPLE000000001",
            },
        ),
        noop(
            "aws_iam_group",
            "analysts",
            {
                "arn": f"arn:aws:iam::{B}:group/analysts",
                "id": "analysts",
                "name": "analysts",
                "path": "/",
                "unique_id": "AGPAEXAMPLE000000001",
            },
        ),
        noop(
            "aws_iam_group_policy",
            "analysts_decrypt",
            {
                "group": "analysts",
                "id": "analysts:decrypt",
                "name": "decrypt",
                "name_prefix": "",
                "policy": encoded(decrypt),
            },
        ),
        noop(
            "aws_iam_group_membership",
            "analysts",
            {
                "group": "analysts",
                "id": "analysts",
                "name": "analysts-membership",
                "users": ["alice"],
            },
        ),
        noop(
            "aws_s3_bucket",
            "data",
            {
                "arn": f"arn:aws:s3:::{BUCKET}",
                "bucket": BUCKET,
                "bucket_prefix": "",
                "force_destroy": False,
                "id": BUCKET,
                "region": R,
                "tags": {},
                "tags_all": {},
            },
        ),
        noop(
            "aws_s3_bucket_server_side_encryption_configuration",
            "data",
            {
                "bucket": BUCKET,
                "expected_bucket_owner": "",
                "id": BUCKET,
                "rule": [
                    {
                        "apply_server_side_encryption_by_default": [
                            {"kms_master_key_id": DATA_KEY, "sse_algorithm": "aws:kms"}
                        ],
                        "bucket_key_enabled": True,
                    }
                ],
            },
        ),
        noop(
            "aws_s3_bucket_policy",
            "data",
            {"bucket": BUCKET, "id": BUCKET, "policy": encoded(bucket_policy)},
        ),
    ]
    configuration = {
        "provider_config": {
            "aws": {"name": "aws", "full_name": PROVIDER, "expressions": {"region": const(R)}}
        },
        "root_module": {
            "resources": [
                conf("aws_kms_key", "data", {"description": const("data at rest"), "policy": {}}),
                conf(
                    "aws_iam_role",
                    "reader",
                    {
                        "assume_role_policy": {},
                        "inline_policy": [{"name": const("read-objects"), "policy": {}}],
                        "name": const("reader"),
                        "path": const("/app/"),
                    },
                ),
                conf(
                    "aws_iam_role_policy",
                    "reader_kms",
                    {
                        "name": const("kms"),
                        "policy": {},
                        "role": ref("aws_iam_role.reader.name", "aws_iam_role.reader"),
                    },
                ),
                conf(
                    "aws_iam_role_policy_attachment",
                    "writer_kms",
                    {
                        "policy_arn": ref("aws_iam_policy.kms_use.arn", "aws_iam_policy.kms_use"),
                        "role": ref("aws_iam_role.writer.name", "aws_iam_role.writer"),
                    },
                ),
            ]
        },
    }
    write("iam-s3", "plan.json", plan(changes, [], configuration))
    accounts = {
        B: {
            "principals": {
                reader: {"policies": [read_objects, decrypt], "trust_policy": ec2_trust},
                f"arn:aws:iam::{B}:role/writer": {"policies": [use], "trust_policy": ec2_trust},
                f"arn:aws:iam::{B}:user/alice": {
                    "policies": [decrypt],
                    "groups": ["analysts"],
                    "tags": {"team": "analytics"},
                },
            }
        }
    }
    buckets = [
        {
            "arn": f"arn:aws:s3:::{BUCKET}",
            "account": B,
            "region": R,
            "policy": bucket_policy,
            "kms_key": DATA_KEY,
            "bucket_key": True,
        }
    ]
    keys = [
        {"arn": DATA_KEY, "policy": key_new, "aliases": ["alias/data"], "tags": {"team": "data"}}
    ]
    write("iam-s3", "world.json", world(keys, accounts=accounts, buckets=buckets))
    # the state before the change: the old key policy
    before = [resource(c["type"], c["name"], c["change"]["before"]) for c in changes]
    write("iam-s3", "state-before.json", state(before))


if __name__ == "__main__":
    kms_complete()
    cloudposse()
    kms_grant()
    iam_s3()

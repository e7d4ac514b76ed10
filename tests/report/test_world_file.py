"""World files written back (`report.world_file`): what `world_document` writes loads
to an equal `World` (generated worlds, the examples, every extension field), defaults
are left out, and the IAM and ListGrants shapes are the ones AWS prints."""

from __future__ import annotations

import dataclasses
import json
import types
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings

from kmsprove.ast import Policy
from kmsprove.errors import InputError
from kmsprove.inputs import load_world
from kmsprove.inputs.world_file import load_world_json
from kmsprove.report.world_file import grant_entry, policy_document, world_document
from kmsprove.world import Account, Identity, World
from tests.support.strategies import KEY, ORG, A, B, worlds

EXAMPLES = sorted((Path(__file__).parents[2] / "examples").glob("*/world.json"))


def round_trip(world: World) -> World:
    # through JSON text too: the document must be plain JSON, as a file would hold it
    return load_world_json(json.loads(json.dumps(world_document(world))))


def _unnamed_policy(p: Policy | None) -> Policy | None:
    return None if p is None else dataclasses.replace(p, name="")


def unnamed(world: World) -> World:
    """`world` with every policy's name blanked: the reader names a document after the
    file it came from, which an all-inline world file cannot carry."""

    def identity(i: Identity) -> Identity:
        return dataclasses.replace(
            i,
            policies=tuple(dataclasses.replace(p, name="") for p in i.policies),
            boundary=_unnamed_policy(i.boundary),
            trust_policy=_unnamed_policy(i.trust_policy),
        )

    def account(a: Account) -> Account:
        return dataclasses.replace(
            a,
            scps=tuple(dataclasses.replace(p, name="") for p in a.scps),
            rcps=tuple(dataclasses.replace(p, name="") for p in a.rcps),
            principals=types.MappingProxyType(
                {arn: identity(i) for arn, i in a.principals.items()}
            ),
        )

    return dataclasses.replace(
        world,
        keys=tuple(
            dataclasses.replace(
                k,
                policy=dataclasses.replace(k.policy, name=""),
                ram_policy=_unnamed_policy(k.ram_policy),
            )
            for k in world.keys
        ),
        accounts=types.MappingProxyType({i: account(a) for i, a in world.accounts.items()}),
        buckets=tuple(
            dataclasses.replace(b, policy=_unnamed_policy(b.policy)) for b in world.buckets
        ),
        vpc_endpoints=types.MappingProxyType(
            {e: dataclasses.replace(p, name="") for e, p in world.vpc_endpoints.items()}
        ),
        file="<world>",
    )


# --------------------------------------------------------------------------
# round trips


def _loads(doc: dict[str, Any]) -> World | None:
    try:
        return load_world_json(doc)
    except InputError:
        return None


@settings(max_examples=200)
@given(worlds())
def test_a_written_world_loads_to_an_equal_world(doc: dict[str, Any]) -> None:
    world = _loads(doc)
    assume(world is not None)  # a few generated worlds break a rule of check_world
    assert world is not None
    written = world_document(world)
    again = load_world_json(written)
    assert again == world
    assert world_document(again) == written  # the same world, the same document


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.parent.name)
def test_the_example_worlds_round_trip(path: Path) -> None:
    world = load_world(path)
    again = round_trip(world)
    assert unnamed(again) == unnamed(world)
    # an inline document is named after the world file (`load_world_json`'s `<world>`)
    assert {k.policy.name for k in again.keys} == {"<world>"}


def test_the_examples_are_there() -> None:
    # a moved examples/ directory would make the round trips above vacuous
    assert len(EXAMPLES) >= 5


def test_every_field_is_written_and_read_back() -> None:
    """A document using every extension field, already in the writer's canonical form
    (defaults left out, one value a string, accounts sorted): written back unchanged."""
    kp = {
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [
            {
                "Sid": "Root",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    ram = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
                "Action": ["kms:Decrypt", "kms:DescribeKey"],
                "Resource": "*",
            }
        ],
    }
    allow_all = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    endpoint = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}],
    }
    rcp = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "kms:*",
                "Resource": "*",
                "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG}},
            }
        ],
    }
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
    bucket_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::b/*",
            }
        ],
    }
    doc = {
        "version": 1,
        "keys": [
            {
                "arn": KEY,
                "policy": kp,
                "grants": [
                    {
                        "GrantId": "g0",
                        "KeyId": KEY,
                        "Name": "app",
                        "GranteePrincipal": f"arn:aws:iam::{A}:role/app",
                        "RetiringPrincipal": f"arn:aws:iam::{A}:role/admin",
                        "IssuingAccount": f"arn:aws:iam::{A}:root",
                        "Operations": ["Sign"],
                        "Constraints": {"SourceArn": f"arn:aws:logs:us-east-1:{A}:log-group:x"},
                    }
                ],
                "state": "Disabled",
                "aliases": ["alias/app"],
                "aws_ram_policy": ram,
                "key_spec": "RSA_2048",
                "key_usage": "SIGN_VERIFY",
                "origin": "EXTERNAL",
                "multi_region": True,
                "multi_region_key_type": "PRIMARY",
                "tags": {"team": "red", "env": "prod"},
            }
        ],
        "accounts": {
            A: {
                "complete": True,
                "organization": ORG,
                "management": True,
                "rcps": [rcp],
                "principals": {
                    f"arn:aws:iam::{A}:role/app": {
                        "policies": [allow_all],
                        "boundary": allow_all,
                        "tags": {"team": "red"},
                        "trust_policy": trust,
                    },
                    f"arn:aws:iam::{A}:user/alice": {"groups": ["devs"]},
                },
            },
            B: {"organization": ORG, "scps": [allow_all], "enabled_regions": []},
        },
        "buckets": [
            {
                "arn": "arn:aws:s3:::b",
                "account": A,
                "region": "us-west-2",
                "policy": bucket_policy,
                "kms_key": KEY,
                "bucket_key": True,
            }
        ],
        "vpc_endpoints": {"vpce-0a": endpoint, "vpce-1b": endpoint},
    }
    world = load_world_json(doc)
    assert world_document(world) == doc
    assert round_trip(world) == world
    # `[]` (no Region enabled) is not "absent" (every Region enabled)
    assert world.accounts[B].enabled_regions == ()


def test_defaults_are_left_out() -> None:
    doc = {
        "version": 1,
        "keys": [
            {
                "arn": KEY,
                "policy": {"Version": "2012-10-17", "Statement": []},
                "manager": "CUSTOMER",
                "state": "Enabled",
                "aliases": [],
                "grants": [],
                "key_spec": "SYMMETRIC_DEFAULT",
                "multi_region": False,
                "tags": {},
            }
        ],
        "accounts": {B: {"complete": False, "scps": [], "principals": {}}, A: {}},
        "buckets": [
            {"arn": "arn:aws:s3:::b", "account": A, "region": "us-east-1", "bucket_key": False}
        ],
        "vpc_endpoints": {},
    }
    assert world_document(load_world_json(doc)) == {
        "version": 1,
        "keys": [{"arn": KEY, "policy": {"Version": "2012-10-17", "Statement": []}}],
        # an account with nothing but defaults is still an account of the world
        "accounts": {A: {}, B: {}},
        "buckets": [{"arn": "arn:aws:s3:::b", "account": A}],
    }


def test_an_imported_account_stays_complete() -> None:
    # the import made it complete; the written account has no import, so says so
    world = load_world(Path(__file__).parents[2] / "examples/complete-account/world.json")
    assert world.accounts[A].complete
    assert world_document(world)["accounts"][A]["complete"] is True


# --------------------------------------------------------------------------
# AWS managed keys (R7.5)


def test_an_aws_managed_key_round_trips_without_its_policy() -> None:
    doc = {"version": 1, "keys": [{"arn": KEY, "manager": "AWS", "aliases": ["alias/aws/ebs"]}]}
    world = load_world_json(doc)
    assert world.keys[0].policy.name == "alias/aws/ebs"
    assert world_document(world) == doc
    assert round_trip(world) == world


def test_an_aws_managed_key_with_another_policy_keeps_it() -> None:
    doc = {"version": 1, "keys": [{"arn": KEY, "manager": "AWS", "aliases": ["alias/aws/s3"]}]}
    managed = load_world_json(doc).keys[0].policy
    changed = dataclasses.replace(managed, statements=managed.statements[:1])
    world = World(keys=(dataclasses.replace(load_world_json(doc).keys[0], policy=changed),))
    written = world_document(world)
    assert written["keys"][0]["policy"] == policy_document(changed)
    assert round_trip(world).keys[0].policy == dataclasses.replace(changed, name="<world>")


# --------------------------------------------------------------------------
# IAM JSON and ListGrants shapes


def _key_policy(*statements: dict[str, Any]) -> Policy:
    doc = {"version": 1, "keys": [{"arn": KEY, "policy": {"Statement": list(statements)}}]}
    return load_world_json(doc).keys[0].policy


def test_the_bare_wildcard_principal_is_written_as_a_star() -> None:
    policy = _key_policy(
        {"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*"},
        {
            "Effect": "Deny",
            "NotPrincipal": {"AWS": [A, f"arn:aws:iam::{B}:role/x"], "Service": "s3.amazonaws.com"},
            "NotAction": "kms:Describe*",
            "NotResource": KEY,
        },
    )
    doc = policy_document(policy)
    assert "Version" not in doc  # none was written: the policy reads as 2008-10-17
    first, second, third = doc["Statement"]
    assert first["Principal"] == "*"
    assert second["Principal"] == {"AWS": "*"}  # the map form stays the map form
    # an account id was normalised to its root ARN when built (R2.1), and stays so
    assert third["NotPrincipal"] == {
        "AWS": [f"arn:aws:iam::{A}:root", f"arn:aws:iam::{B}:role/x"],
        "Service": "s3.amazonaws.com",
    }
    assert (third["NotAction"], third["NotResource"]) == ("kms:Describe*", KEY)


def test_condition_values_one_a_string_several_a_list() -> None:
    policy = _key_policy(
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": ["kms:Decrypt"],
            "Resource": ["*"],
            "Condition": {
                "StringEquals": {"kms:CallerAccount": [A, B], "kms:ViaService": ["s3.x"]},
                "Bool": {"aws:SecureTransport": True},
                "NumericLessThan": {"kms:ScheduleKeyDeletionPendingWindowInDays": 10},
                "ForAnyValue:StringLikeIfExists": {"kms:EncryptionContextKeys": "D*"},
            },
        }
    )
    st = policy_document(policy)["Statement"][0]
    assert (st["Action"], st["Resource"]) == ("kms:Decrypt", "*")
    assert st["Condition"] == {
        "StringEquals": {"kms:CallerAccount": [A, B], "kms:ViaService": "s3.x"},
        # JSON true and 10 are the strings the builder stores
        "Bool": {"aws:SecureTransport": "true"},
        "NumericLessThan": {"kms:ScheduleKeyDeletionPendingWindowInDays": "10"},
        # the operator as written, set operator and IfExists included
        "ForAnyValue:StringLikeIfExists": {"kms:EncryptionContextKeys": "D*"},
    }


def test_a_grant_entry_has_only_the_fields_that_are_set() -> None:
    grants = [
        {
            "GrantId": "g0",
            "GranteePrincipal": f"arn:aws:iam::{A}:role/app",
            "Operations": ["Decrypt", "Encrypt"],
            "IssuingAccount": A,
            "Constraints": {"EncryptionContextSubset": {}},
        },
        {
            "GrantId": "g1",
            "KeyId": KEY,
            "GranteeServicePrincipal": "logs.amazonaws.com",
            "RetiringServicePrincipal": "logs.amazonaws.com",
            "Operations": ["GenerateDataKey"],
            "Constraints": {"SourceArn": f"arn:aws:logs:us-east-1:{A}:log-group:x"},
        },
    ]
    doc = {"version": 1, "keys": [{"arn": KEY, "policy": {"Statement": []}, "grants": grants}]}
    g0, g1 = (grant_entry(g) for g in load_world_json(doc).keys[0].grants)
    assert g0 == {
        "GrantId": "g0",
        "KeyId": KEY,  # the key's ARN, which the reader gives a grant without KeyId
        "GranteePrincipal": f"arn:aws:iam::{A}:role/app",
        "IssuingAccount": f"arn:aws:iam::{A}:root",
        "Operations": ["Decrypt", "Encrypt"],
        # an empty context map is still a constraint
        "Constraints": {"EncryptionContextSubset": {}},
    }
    assert g1 == {**grants[1]}


def test_identities_with_unknown_documents_are_left_out() -> None:
    known = Identity(f"arn:aws:iam::{A}:role/app")
    unknown = Identity(
        f"arn:aws:iam::{A}:role/admin",
        unknown_documents=("arn:aws:iam::aws:policy/AdministratorAccess",),
    )
    acct = Account(
        A, complete=True, principals=types.MappingProxyType({p.arn: p for p in (known, unknown)})
    )
    world = World(accounts=types.MappingProxyType({A: acct}))
    assert world_document(world)["accounts"] == {
        A: {"complete": True, "principals": {known.arn: {}}}
    }


def test_repeated_tag_keys_use_the_aws_list_shape() -> None:
    tags = [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]
    doc = {"version": 1, "keys": [{"arn": KEY, "policy": {"Statement": []}, "tags": tags}]}
    world = load_world_json(doc)
    assert world.keys[0].tags == (("a", "1"), ("a", "2"))
    assert world_document(world)["keys"][0]["tags"] == tags
    assert round_trip(world) == world

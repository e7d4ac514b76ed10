"""`kmsprove collect --org --role-name NAME`: Organizations from the management
account (accounts, OUs, SCPs and RCPs with their targets), each member account through
the role (moto maps an assumed role's credentials to its account), and the SCPs of an
account's OU path flattened into the world's one level."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from kmsprove.cli import main
from kmsprove.collect.calls import CALLS
from kmsprove.collect.org import flatten_scps, full_access
from kmsprove.collect.store import Store
from tests.collect.conftest import Hooks
from tests.collect.estate import PARTNER, A, allow, doc, refuse
from tests.collect.test_collect import collect, world

ROLE = "OrganizationAccountAccessRole"
FULL = doc(allow("*"))


@dataclass
class Org:
    id: str
    member: str
    key: str  # the member's key
    deny_deletion: str  # SCP on the Prod OU
    allow_list: str  # SCP on the member account (FullAWSAccess detached there)
    rcp: str  # on the root


def _policy(org: Any, name: str, kind: str, content: dict[str, Any]) -> str:
    made = org.create_policy(Name=name, Type=kind, Description=name, Content=json.dumps(content))
    pid: str = made["Policy"]["PolicySummary"]["Id"]
    return pid


def member_client(aws: Hooks, account: str, service: str) -> Any:
    creds = aws.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{ROLE}", RoleSessionName="seeding"
    )["Credentials"]
    return aws.client(
        service,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def seed_org(aws: Hooks) -> Org:
    org = aws.client("organizations")
    org_id = org.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    root = org.list_roots()["Roots"][0]["Id"]
    for kind in ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"):
        org.enable_policy_type(RootId=root, PolicyType=kind)
    prod = org.create_organizational_unit(ParentId=root, Name="Prod")["OrganizationalUnit"]["Id"]
    made = org.create_account(AccountName="app", Email="app@example.com")
    member = made["CreateAccountStatus"]["AccountId"]
    org.move_account(AccountId=member, SourceParentId=root, DestinationParentId=prod)
    deny = _policy(
        org,
        "NoKeyDeletion",
        "SERVICE_CONTROL_POLICY",
        doc({"Effect": "Deny", "Action": "kms:ScheduleKeyDeletion", "Resource": "*"}),
    )
    org.attach_policy(PolicyId=deny, TargetId=prod)
    allow_list = _policy(
        org, "KmsAndIamOnly", "SERVICE_CONTROL_POLICY", doc(allow(["kms:*", "iam:*", "sts:*"]))
    )
    org.attach_policy(PolicyId=allow_list, TargetId=member)
    org.detach_policy(PolicyId="p-FullAWSAccess", TargetId=member)
    rcp = _policy(
        org,
        "KeysStayInTheOrg",
        "RESOURCE_CONTROL_POLICY",
        doc(
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "kms:*",
                "Resource": "*",
                "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": org_id}},
            }
        ),
    )
    org.attach_policy(PolicyId=rcp, TargetId=root)
    iam = member_client(aws, member, "iam")
    trust = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{member}:root"},
            "Action": "sts:AssumeRole",
        }
    )
    iam.create_role(RoleName="Admin", AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName="Admin", PolicyName="all", PolicyDocument=json.dumps(FULL))
    key_policy = doc(
        {"Principal": {"AWS": f"arn:aws:iam::{member}:root"}, **allow("kms:*")},
        {"Principal": {"AWS": f"arn:aws:iam::{PARTNER}:root"}, **allow("kms:Decrypt")},
    )
    key = member_client(aws, member, "kms").create_key(Policy=json.dumps(key_policy))
    aws.client("kms").create_key()  # one in the management account too
    return Org(org_id, member, key["KeyMetadata"]["Arn"], deny, allow_list, rcp)


def _answer(world_path: Path, query: str, key: str) -> str:
    result = CliRunner().invoke(
        main, ["query", str(world_path), f"{query} on key {key}", "--format", "json"]
    )
    assert result.exit_code in (0, 3), result.output
    verdict: str = json.loads(result.stdout)["answer"]
    return verdict


def test_an_organization_is_collected_through_its_member_role(aws: Hooks, tmp_path: Path) -> None:
    o = seed_org(aws)
    out = tmp_path / "org"
    result = collect(out, "--org", "--role-name", ROLE)
    assert result.exit_code == 0, result.output
    assert f"organization {o.id}" in result.output
    w = world(out)
    accounts = w["accounts"]
    assert accounts[A] == {
        "complete": True,
        "import": f"accounts/{A}/iam/authorization-details.json",
        "organization": o.id,
        "management": True,  # no SCP or RCP binds it: none listed
    }
    m = accounts[o.member]
    assert m["complete"] is True and m["organization"] == o.id and "management" not in m
    # the allow list at the account, the Prod OU's Deny alone (its FullAWSAccess and the
    # root's let everything through)
    assert m["scps"] == [
        f"organization/policies/{o.allow_list}.json",
        f"organization/policies/{o.deny_deletion}.json",  # all Deny: kept as it is
    ]
    assert f"organization/policies/{o.rcp}.json" in m["rcps"]
    assert {k["arn"].split(":")[4] for k in w["keys"]} == {A, o.member}
    assert "unknowns" not in w
    # the member's role was assumed once; the management account was read as it is
    assert aws.calls.count("sts:AssumeRole") == 1
    names = {f"{c.service}:{c.operation}" for c in CALLS}
    assert set(aws.calls) <= names, set(aws.calls) - names
    admin = f"principal arn:aws:iam::{o.member}:role/Admin"
    world_file = out / "world.json"
    assert _answer(world_file, f"can {admin} kms:Decrypt", o.key) == "yes"
    assert _answer(world_file, f"can {admin} kms:ScheduleKeyDeletion", o.key) == "no"  # SCP
    # the key policy names account 444455556666, the RCP keeps it out
    outside = f"can any principal outside org {o.id} kms:Decrypt"
    assert _answer(world_file, outside, o.key) == "no"


def test_a_member_whose_role_cannot_be_assumed_stays_open(aws: Hooks, tmp_path: Path) -> None:
    o = seed_org(aws)
    refuse(aws, "sts", "AssumeRole", "AccessDenied", when=lambda b: o.member in b["RoleArn"])
    out = tmp_path / "org"
    result = collect(out, "--org", "--role-name", ROLE)
    assert result.exit_code == 3, result.output
    assert f"sts:AssumeRole AccessDenied: account {o.member}" in result.output
    w = world(out)
    assert w["accounts"][o.member]["complete"] is False
    assert {"reason": f"sts:AssumeRole refused (AccessDenied) for account {o.member}"} in w[
        "unknowns"
    ]
    assert {k["arn"].split(":")[4] for k in w["keys"]} == {A}


def test_org_needs_the_role_name(aws: Hooks, tmp_path: Path) -> None:
    result = collect(tmp_path / "org", "--org")
    assert result.exit_code == 2
    assert "--org needs --role-name" in result.output
    assert not (tmp_path / "org").exists()


# --------------------------------------------------------------------------
# one level for a path of levels (kmsprove/collect/org.py)

DENY_S3 = doc({"Effect": "Deny", "Action": "s3:*", "Resource": "*"}, allow("ec2:*"))
KMS_ONLY = doc(allow("kms:*"))
IAM_ONLY = doc(allow("iam:*"))
DOCS = {"full": FULL, "deny": DENY_S3, "kms": KMS_ONLY, "iam": IAM_ONLY}


def _flatten(tmp_path: Path, attached: dict[str, list[str]]) -> tuple[list[str], str | None]:
    return flatten_scps(["root", "ou", "acct"], attached, DOCS, Store(tmp_path), [])


def test_full_access_at_every_level_lists_every_scp(tmp_path: Path) -> None:
    scps, problem = _flatten(tmp_path, {"root": ["full"], "ou": ["full", "deny"], "acct": ["full"]})
    assert scps == ["organization/policies/full.json", "organization/policies/deny.json"]
    assert problem is None


def test_one_allow_list_keeps_the_other_levels_denies_only(tmp_path: Path) -> None:
    scps, problem = _flatten(tmp_path, {"root": ["full"], "ou": ["full", "deny"], "acct": ["kms"]})
    assert scps == ["organization/policies/kms.json", "organization/policies/deny.deny-only.json"]
    assert problem is None
    written = json.loads((tmp_path / "organization/policies/deny.deny-only.json").read_text())
    assert written["Statement"] == [DENY_S3["Statement"][0]]  # the ec2 Allow is gone


def test_allow_lists_at_two_levels_are_not_exact(tmp_path: Path) -> None:
    _, problem = _flatten(tmp_path, {"root": ["full"], "ou": ["iam"], "acct": ["kms"]})
    assert problem is not None and "2 levels" in problem


def test_full_access_is_only_an_unconditional_star() -> None:
    assert full_access(FULL)
    assert not full_access(KMS_ONLY)
    conditional = doc(allow("*", Condition={"Bool": {"aws:SecureTransport": "true"}}))
    assert not full_access(conditional)

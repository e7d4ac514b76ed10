"""Hypothesis strategies: small worlds (as world-file JSON) and requests.

The pools are small on purpose: collisions between what the policies name and
what the requests carry are what exercise the rules. Shared by the evaluator
property tests and the encoder's differential tests.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from kmsprove.operators import OPERATORS
from kmsprove.request import Context, Request

A, B, C = "111122223333", "444455556666", "777788889999"
ACCOUNTS = (A, B, C)
KEY = f"arn:aws:kms:us-east-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_KEY = f"arn:aws:kms:us-east-1:{B}:key/0987dcba-09fe-87dc-65ba-ab0987654321"
ORG = "o-aaaaaaaaaa"

USERS = tuple(f"arn:aws:iam::{a}:user/{n}" for a in (A, B) for n in ("alice", "bob"))
ROLES = tuple(f"arn:aws:iam::{a}:role/{n}" for a in (A, B) for n in ("app", "admin"))
SESSIONS = tuple(f"arn:aws:sts::{a}:assumed-role/{n}/s1" for a in (A, B) for n in ("app", "admin"))
ROOTS = tuple(f"arn:aws:iam::{a}:root" for a in ACCOUNTS)
SERVICES = ("cloudtrail.amazonaws.com", "logs.amazonaws.com")
CALLERS = USERS + SESSIONS + ROOTS + SERVICES + (f"arn:aws:sts::{C}:assumed-role/x/s",)
# Unique ids (issue 11): each principal's own, which a world gives or not (when not, a
# grant naming it is unresolved), and ids no principal of any world carries.
UNIQUE_IDS = {
    arn: ("AIDA" if ":user/" in arn else "AROA") + f"TWIN{i:012d}"
    for i, arn in enumerate(USERS + ROLES)
}
UNRESOLVED_IDS = ("AROAUNKNOWN000000000001", "AIDAUNKNOWN000000000001")
# a session of the role AWS owns for EBS: a grantee ListGrants shows, and a caller
EC2_SESSION = f"arn:aws:sts::{A}:assumed-role/aws:ec2-infrastructure/i-0123456789abcdef0"
REQUEST_CALLERS = (*CALLERS, EC2_SESSION)

ACTIONS = (
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:ReEncryptFrom",
    "kms:CreateGrant",
    "kms:DescribeKey",
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
    "kms:RetireGrant",
    "kms:RevokeGrant",
    "kms:Sign",
)
# drawn for single requests only (the questions' vocabulary stays ACTIONS): operations
# without a key resource, the ones that need the key ARN across accounts, and a
# multi-Region one with no replica in the world (issue 11)
REQUEST_ONLY_ACTIONS = (
    "kms:ListKeys",
    "kms:ListAliases",
    "kms:CreateKey",
    "kms:GetKeyRotationStatus",
    "kms:ListGrants",
    "kms:UpdatePrimaryRegion",
)
ACTION_PATTERNS = (
    "kms:*",
    "*",
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:Gen*",
    "kms:ReEncrypt*",
    "kms:*Grant*",
    "kms:Describe*",
    "kms:Put*",
    "KMS:decrypt",
    "kms:?ecrypt",
    "s3:*",
    "kms:CreateGrant",
)
PRINCIPAL_VALUES = (
    "*",
    A,
    B,
    *ROOTS,
    *USERS,
    *ROLES,
    SESSIONS[0],
    f"arn:aws:iam::{A}:role/team/app",
)
EC_KEYS = ("Dept", "dept", "Project", "aws:s3:arn")
EC_VALUES = ("IT", "it", "HR", "alpha", "arn:aws:s3:::b/o")

CONDITIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("StringEquals", "kms:CallerAccount", (A,)),
    ("StringEquals", "kms:CallerAccount", (B, C)),
    ("StringNotEquals", "aws:PrincipalAccount", (A,)),
    ("StringEquals", "aws:PrincipalOrgID", (ORG,)),
    ("StringNotEqualsIfExists", "aws:PrincipalOrgID", (ORG,)),
    ("StringEquals", "kms:ViaService", ("s3.us-east-1.amazonaws.com",)),
    ("StringEqualsIfExists", "kms:ViaService", ("ec2.us-east-1.amazonaws.com",)),
    ("ArnLike", "aws:PrincipalArn", (f"arn:aws:iam::{A}:role/*",)),
    ("ArnNotLike", "aws:PrincipalArn", (f"arn:aws:iam::{B}:*",)),
    ("Bool", "kms:GrantIsForAWSResource", ("true",)),
    ("BoolIfExists", "aws:PrincipalIsAWSService", ("false",)),
    ("ForAllValues:StringEquals", "kms:GrantOperations", ("Decrypt", "Encrypt")),
    ("ForAnyValue:StringEquals", "kms:GrantOperations", ("CreateGrant",)),
    ("ForAnyValue:StringEquals", "kms:EncryptionContextKeys", ("Dept",)),
    ("ForAllValues:StringLike", "kms:EncryptionContextKeys", ("D*", "P*")),
    ("Null", "kms:EncryptionContextKeys", ("false",)),
    ("Null", "aws:SourceIp", ("true",)),
    ("StringEquals", "kms:EncryptionContext:Dept", ("IT",)),
    ("StringEqualsIgnoreCase", "kms:EncryptionContext:dept", ("it",)),
    ("StringLike", "kms:EncryptionContext:aws:s3:arn", ("arn:aws:s3:::b/*",)),
    ("StringEquals", "aws:SourceAccount", (A,)),
    ("IpAddress", "aws:SourceIp", ("10.0.0.0/8",)),
    ("NotIpAddress", "aws:SourceIp", ("192.0.2.0/24",)),
    ("NumericLessThan", "kms:ScheduleKeyDeletionPendingWindowInDays", ("10",)),
    ("StringEquals", "aws:PrincipalTag/team", ("${aws:PrincipalTag/team}", "red")),
    ("StringLike", "aws:PrincipalArn", ("arn:aws:iam::${aws:PrincipalAccount}:*",)),
    ("DateLessThan", "aws:CurrentTime", ("2030-01-01T00:00:00Z",)),
)

CONTEXT_CHOICES: tuple[tuple[str, Any], ...] = (
    ("kms:ViaService", "s3.us-east-1.amazonaws.com"),
    ("kms:ViaService", "ec2.us-east-1.amazonaws.com"),
    ("aws:SourceIp", "10.1.2.3"),
    ("aws:SourceIp", "192.0.2.7"),
    ("aws:SourceAccount", A),
    ("aws:SourceAccount", B),
    ("aws:SourceArn", f"arn:aws:cloudtrail:us-east-1:{A}:trail/t"),
    ("kms:GrantOperations", ["Decrypt"]),
    ("kms:GrantOperations", ["Decrypt", "CreateGrant"]),
    ("kms:GrantOperations", []),
    ("kms:GrantIsForAWSResource", "true"),
    ("kms:ScheduleKeyDeletionPendingWindowInDays", "7"),
    ("kms:ScheduleKeyDeletionPendingWindowInDays", "30"),
    ("aws:CurrentTime", "2026-11-26T00:00:00Z"),
    ("kms:GrantConstraintType", "EncryptionContextSubset"),
    ("kms:BypassPolicyLockoutSafetyCheck", "true"),
    ("kms:GrantConstraintType", "EncryptionContextEquals"),
)


KEY_NAMINGS = (
    None,
    None,
    f"arn:aws:kms:us-east-1:{A}:alias/app",
    "1234abcd-12ab-34cd-56ef-1234567890ab",
    "alias/app",
)


def _one_or_list(values: tuple[str, ...]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from(values), st.lists(st.sampled_from(values), min_size=1, max_size=3)
    )


# Keys and literal shapes per operator family, for conditions drawn from the operator
# table itself (kmsprove.operators.OPERATORS): a new operator is drawn the day it is
# added, and a new family fails here until it has samples.
FAMILY_KEYS: dict[str, tuple[str, ...]] = {
    "String": (
        "kms:EncryptionContext:Dept",
        "aws:PrincipalTag/team",
        "aws:PrincipalOrgPaths",
        "kms:GrantOperations",
        "kms:ViaService",
    ),
    "Arn": ("aws:PrincipalArn", "aws:SourceArn"),
    "Numeric": ("kms:ScheduleKeyDeletionPendingWindowInDays", "aws:MultiFactorAuthAge"),
    "Date": ("aws:CurrentTime", "aws:EpochTime"),
    "Bool": ("aws:MultiFactorAuthPresent", "kms:GrantIsForAWSResource"),
    "Binary": ("kms:EncryptionContext:Blob",),
    "Ip": ("aws:SourceIp",),
    "Null": ("aws:SourceIp", "kms:EncryptionContext:Dept", "aws:PrincipalOrgPaths"),
}
FAMILY_LITERALS: dict[str, tuple[str, ...]] = {
    "String": ("IT", "it", "I*", "o-a/*", "Decrypt", "${aws:PrincipalTag/team}"),
    "Arn": (f"arn:aws:iam::{A}:role/*", f"arn:aws:cloudtrail:us-east-1:{A}:trail/t", "*"),
    "Numeric": ("10", "7", "1e2", "0.5", "-3", "+4", "30.0"),
    "Date": ("2030-01-01T00:00:00Z", "2030", "2030-01", "100", "1700000000", "1700000000.5", "-5"),
    "Bool": ("true", "false", "True"),
    "Binary": ("QUJD", "YWJj"),
    "Ip": ("10.0.0.0/8", "192.0.2.7", "2001:db8::/32"),
    "Null": ("true", "false"),
}
# request values for the keys above (context choices draw from these too)
KEY_VALUES: tuple[tuple[str, Any], ...] = (
    ("aws:PrincipalOrgPaths", ["o-a/r/ou1", "o-b/r/ou2"]),
    ("aws:PrincipalOrgPaths", ["o-b/r/ou2", "o-a/r/ou1"]),
    ("aws:PrincipalOrgPaths", ["o-a/r/ou1"]),
    ("aws:MultiFactorAuthAge", "7"),
    ("aws:MultiFactorAuthAge", "1e2"),
    ("aws:MultiFactorAuthAge", "10.0"),
    ("aws:EpochTime", "1700000000"),
    ("aws:EpochTime", "1700000000.5"),
    ("aws:EpochTime", "-5"),
    ("aws:CurrentTime", "2030-01"),
    ("aws:MultiFactorAuthPresent", "true"),
    ("aws:MultiFactorAuthPresent", "false"),
    ("kms:EncryptionContext:Blob", "QUJD"),
    ("aws:SourceIp", "2001:db8::1"),
)


@st.composite
def table_conditions(draw: st.DrawFn) -> tuple[str, str, tuple[str, ...]]:
    """(operator as written, key, values), the operator drawn from the operator table."""
    name = draw(st.sampled_from(sorted(OPERATORS)))
    family = OPERATORS[name].family
    prefix = (
        "" if family == "Null" else draw(st.sampled_from(("", "", "ForAnyValue:", "ForAllValues:")))
    )
    suffix = "" if family == "Null" else draw(st.sampled_from(("", "", "IfExists")))
    key = draw(st.sampled_from(FAMILY_KEYS[family]))
    values = draw(st.lists(st.sampled_from(FAMILY_LITERALS[family]), min_size=1, max_size=2))
    return prefix + name + suffix, key, tuple(values)


@st.composite
def condition_blocks(draw: st.DrawFn) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    picked = st.one_of(st.sampled_from(CONDITIONS), table_conditions())
    for op, key, values in draw(st.lists(picked, max_size=2, unique=True)):
        out.setdefault(op, {})[key] = list(values) if len(values) > 1 else values[0]
    return out


@st.composite
def statements(
    draw: st.DrawFn, resource_policy: bool, resources: tuple[str, ...]
) -> dict[str, Any]:
    effect = draw(st.sampled_from(("Allow", "Allow", "Allow", "Deny")))
    s: dict[str, Any] = {"Effect": effect}
    if draw(st.booleans()):
        s["Sid"] = draw(st.sampled_from(("S1", "S2", "Admin", "Users")))
    if resource_policy:
        if effect == "Deny" and draw(st.integers(0, 4)) == 0:
            s["NotPrincipal"] = {"AWS": draw(_one_or_list(PRINCIPAL_VALUES[1:]))}
        elif draw(st.integers(0, 5)) == 0:
            s["Principal"] = {"Service": draw(st.sampled_from(SERVICES))}
        else:
            v = draw(_one_or_list(PRINCIPAL_VALUES))
            s["Principal"] = "*" if v == "*" else {"AWS": v}
    if draw(st.integers(0, 5)) == 0:
        s["NotAction"] = draw(_one_or_list(ACTION_PATTERNS))
    else:
        s["Action"] = draw(_one_or_list(ACTION_PATTERNS))
    if draw(st.integers(0, 6)) == 0:
        s["NotResource"] = draw(_one_or_list(resources))
    else:
        s["Resource"] = draw(_one_or_list(resources))
    cond = draw(st.one_of(st.just({}), condition_blocks()))
    if cond:
        s["Condition"] = cond
    return s


def _unique_sids(sts: list[dict[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    for s in sts:
        if s.get("Sid") in seen:
            del s["Sid"]
        elif "Sid" in s:
            seen.add(s["Sid"])
    return {"Version": "2012-10-17", "Statement": sts}


def policies(
    resource_policy: bool, resources: tuple[str, ...], max_statements: int = 4
) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        _unique_sids,
        st.lists(statements(resource_policy, resources), min_size=1, max_size=max_statements),
    )


IP_RESOURCES = (
    "*",
    KEY,
    OTHER_KEY,
    f"arn:aws:kms:*:{A}:key/*",
    f"arn:aws:kms:us-east-1:{A}:alias/app",
)
KP_RESOURCES = ("*", "*", KEY)


@st.composite
def grants(draw: st.DrawFn, index: int) -> dict[str, Any]:
    g: dict[str, Any] = {
        "GrantId": f"g{index}",
        "KeyId": KEY,
        "GranteePrincipal": draw(
            st.sampled_from(
                (*ROLES, *USERS, *ROOTS[:2], *UNIQUE_IDS.values(), *UNRESOLVED_IDS, EC2_SESSION)
            )
        ),
        "Operations": draw(
            st.lists(
                st.sampled_from(
                    (
                        "Decrypt",
                        "Encrypt",
                        "CreateGrant",
                        "RetireGrant",
                        "DescribeKey",
                        "GenerateDataKey",
                    )
                ),
                min_size=1,
                max_size=3,
                unique=True,
            )
        ),
        "IssuingAccount": f"arn:aws:iam::{A}:root",
    }
    if draw(st.booleans()):
        g["RetiringPrincipal"] = draw(
            st.sampled_from((*ROLES, *ROOTS[:2], *UNIQUE_IDS.values(), *UNRESOLVED_IDS))
        )
    kind = draw(st.sampled_from((None, "EncryptionContextSubset", "EncryptionContextEquals")))
    if kind:
        g["Constraints"] = {
            kind: draw(
                st.dictionaries(
                    st.sampled_from(EC_KEYS[:3]), st.sampled_from(EC_VALUES), min_size=1, max_size=2
                )
            )
        }
    return g


@st.composite
def worlds(draw: st.DrawFn) -> dict[str, Any]:
    """A world-file document: one key, accounts A and B with a few principals."""
    principals: dict[str, dict[str, Any]] = {}
    for arn in draw(st.lists(st.sampled_from(USERS + ROLES), max_size=5, unique=True)):
        spec: dict[str, Any] = {
            "policies": draw(st.lists(policies(False, IP_RESOURCES, 3), max_size=2))
        }
        if draw(st.integers(0, 4)) == 0:
            spec["boundary"] = draw(policies(False, IP_RESOURCES, 2))
        if draw(st.booleans()):
            spec["tags"] = {"team": draw(st.sampled_from(("red", "blue")))}
        if draw(st.booleans()):
            spec["unique_id"] = UNIQUE_IDS[arn]
        principals[arn] = spec
    accounts: dict[str, Any] = {a: {"principals": {}} for a in (A, B)}
    for arn, spec in principals.items():
        accounts[arn.split(":")[4]]["principals"][arn] = spec
    for a in (A, B):
        if draw(st.booleans()):
            accounts[a]["organization"] = ORG
        if draw(st.integers(0, 3)) == 0:  # with or without an organization id (issue 11)
            accounts[a]["scps"] = [draw(policies(False, ("*",), 2))]
        accounts[a]["complete"] = draw(st.booleans())
    key: dict[str, Any] = {
        "arn": KEY,
        "policy": draw(policies(True, KP_RESOURCES, 5)),
        "grants": [draw(grants(i)) for i in range(draw(st.integers(0, 3)))],
        "aliases": ["alias/app"],
        "state": draw(st.sampled_from(("Enabled", "Enabled", "Disabled"))),
        "key_spec": draw(st.sampled_from(("SYMMETRIC_DEFAULT", "SYMMETRIC_DEFAULT", "RSA_2048"))),
    }
    key["key_usage"] = (
        "ENCRYPT_DECRYPT"
        if key["key_spec"] == "SYMMETRIC_DEFAULT"
        else draw(st.sampled_from(("ENCRYPT_DECRYPT", "SIGN_VERIFY")))
    )
    if key["key_spec"] != "SYMMETRIC_DEFAULT":
        for g in key["grants"]:  # data-key operations do not fit an RSA key (R3.5)
            g["Operations"] = [
                op for op in g["Operations"] if op in ("DescribeKey", "CreateGrant", "RetireGrant")
            ] or ["DescribeKey"]
            g.pop("Constraints", None)
    return {"version": 1, "keys": [key], "accounts": accounts}


@st.composite
def request_specs(draw: st.DrawFn) -> dict[str, Any]:
    """A request as `explain --request` takes it (before context derivation)."""
    choices = st.sampled_from(CONTEXT_CHOICES + KEY_VALUES)
    ctx: dict[str, Any] = dict(draw(st.lists(choices, max_size=3)))
    for k, v in draw(
        st.dictionaries(st.sampled_from(EC_KEYS), st.sampled_from(EC_VALUES), max_size=2)
    ).items():
        ctx[f"kms:EncryptionContext:{k}"] = v
    spec: dict[str, Any] = {
        # a role ARN is decided for a session of it (issue 11)
        "principal": draw(st.sampled_from((*REQUEST_CALLERS, ROLES[0]))),
        "action": draw(st.sampled_from(ACTIONS + REQUEST_ONLY_ACTIONS)),
        "key": KEY,
        "context": ctx,
    }
    if spec["action"] == "kms:RetireGrant":
        spec["grant_id"] = draw(st.sampled_from(("g0", "g1", "g2")))
    # how the caller names the key: by ARN (None), alias ARN, key ID or alias name
    spec["key_id_as_sent"] = draw(st.sampled_from(KEY_NAMINGS))
    return spec


def one_key_world(
    *statements: dict[str, Any], accounts: dict[str, Any] | None = None, key: str = KEY
) -> dict[str, Any]:
    """A world-file document: the key `key` with these key-policy statements."""
    doc: dict[str, Any] = {
        "version": 1,
        "keys": [{"arn": key, "policy": {"Version": "2012-10-17", "Statement": list(statements)}}],
    }
    if accounts is not None:
        doc["accounts"] = accounts
    return doc


def spec_request(spec: dict[str, Any], naming: bool = False) -> Request:
    """The `Request` a drawn `request_specs` value stands for (before completion);
    `naming`: with the way the caller names the key."""
    return Request(
        spec["principal"],
        spec["action"],
        key=spec.get("key"),
        context=Context.of(spec["context"]),
        grant_id=spec.get("grant_id"),
        key_id_as_sent=spec.get("key_id_as_sent") if naming else None,
    )

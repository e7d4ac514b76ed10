"""ARN vocabulary shared by every stage: split ARNs, name principals.

Pure string facts about AWS identifiers (no authorization semantics), so both
the evaluator and the encoder may use them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

ACCOUNT_RE = re.compile(r"[0-9]{12}")
PARTITIONS = (
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
)
REGION_RE = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]")
KEY_ID_RE = re.compile(
    r"(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
)
# The unique ids of IAM users (AIDA) and roles (AROA), the only ones that stand for a
# principal (IAM identifiers, "Understanding unique ID prefixes"): a saved policy shows
# one for a deleted principal (R2.5), ListGrants may show one as a grantee.
UNIQUE_ID_RE = re.compile(r"(AIDA|AROA)[A-Z0-9]{12,}")
# Sessions of roles AWS itself owns (`assumed-role/aws:ec2-infrastructure/i-...`, the
# grantee of the grants EBS creates): no customer role can carry a `:` in its name.
SERVICE_ROLE_PREFIX = "aws:"


@dataclass(frozen=True, slots=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"


def parse_arn(text: str) -> Arn | None:
    """Six colon-separated fields, the last keeping further colons (R6.3)."""
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return Arn(parts[1], parts[2], parts[3], parts[4], parts[5])


@dataclass(frozen=True, slots=True)
class Caller:
    """What a caller ARN says about the caller (R2.1-R2.7).

    kind: root | user | role (a role ARN, only in policies) | assumed-role |
    federated-user | service | unknown.
    """

    arn: str
    kind: str
    account: str | None
    name: str = ""  # user name, role name, federated user name, service name
    session: str = ""  # session name of an assumed-role session
    path: str = "/"

    @property
    def is_service(self) -> bool:
        return self.kind == "service"

    @property
    def role_arn_prefix(self) -> str:
        """For a session, `arn:aws:iam::ACCT:role/` (role ARNs may carry a path)."""
        return f"arn:{partition_of(self.arn)}:iam::{self.account}:role/"

    @property
    def principal_arn(self) -> str:
        """aws:PrincipalArn of a session is its role's ARN (R2.3); without the
        role's path only a world lookup can add it."""
        if self.kind == "assumed-role":
            return f"{self.role_arn_prefix}{self.name}"
        return self.arn


def unique_id_kind(value: str) -> str | None:
    """`user` or `role` for a user's or role's unique id (`AIDA...`, `AROA...`), else None."""
    if not UNIQUE_ID_RE.fullmatch(value):
        return None
    return "user" if value.startswith("AIDA") else "role"


def is_service_role(name: str) -> bool:
    """A role AWS owns (`aws:ec2-infrastructure`): not in the account's IAM listing,
    no identity policy anyone can write."""
    return name.startswith(SERVICE_ROLE_PREFIX)


def partition_of(arn: str) -> str:
    parts = arn.split(":")
    return parts[1] if len(parts) > 1 and parts[1] else "aws"


@lru_cache(maxsize=1 << 17)  # a shared key's 50,000 grants name the same few thousand ARNs
def parse_caller(text: str) -> Caller:
    if "." in text and not text.startswith("arn:"):
        return Caller(text, "service", None, text)
    a = parse_arn(text)
    if a is None:
        return Caller(text, "unknown", None)
    if a.service == "iam":
        if a.resource == "root":
            return Caller(text, "root", a.account)
        for kind in ("user", "role"):
            if a.resource.startswith(kind + "/"):
                path, _, name = a.resource[len(kind) :].rpartition("/")
                return Caller(text, kind, a.account, name, path=(path or "") + "/")
    if a.service == "sts":
        if a.resource.startswith("assumed-role/"):
            bits = a.resource.split("/")
            if len(bits) >= 3:
                return Caller(text, "assumed-role", a.account, bits[1], "/".join(bits[2:]))
        if a.resource.startswith("federated-user/"):
            return Caller(text, "federated-user", a.account, a.resource.split("/", 1)[1])
    return Caller(text, "unknown", a.account)


SESSION_NAME = "kmsprove"  # the session kmsprove assumes for a role given as the caller


def session_of(role_arn: str, session: str = SESSION_NAME) -> str:
    """The assumed-role session ARN of a role (a role is not a caller; its sessions are,
    R1.2); a session ARN carries the role's name, not its path."""
    c = parse_caller(role_arn)
    return f"arn:{partition_of(role_arn)}:sts::{c.account}:assumed-role/{c.name}/{session}"


def key_arn_parts(arn: str) -> tuple[str, str, str] | None:
    """(region, account, key id) of a KMS key ARN."""
    a = parse_arn(arn)
    if a is None or a.service != "kms" or not a.resource.startswith("key/"):
        return None
    return a.region, a.account, a.resource[4:]


# How a request names its key (the KeyId parameter): AWS resolves a key ID or an alias
# name in the caller's own account and Region (KMS Developer Guide, "Allowing users in
# other accounts to use a KMS key"); an ARN names the account itself.
KEY_ARN, ALIAS_ARN, KEY_ID, ALIAS_NAME = "key ARN", "alias ARN", "key ID", "alias name"
NAMINGS = (KEY_ARN, ALIAS_ARN, KEY_ID, ALIAS_NAME)  # the encoder numbers them in this order


def key_naming(ref: str) -> str:
    """Which of the four KeyId forms `ref` is."""
    if ref.startswith("arn:"):
        return ALIAS_ARN if ":alias/" in ref else KEY_ARN
    return ALIAS_NAME if ref.startswith("alias/") else KEY_ID


def is_alias_naming(naming: str) -> bool:
    return naming in (ALIAS_ARN, ALIAS_NAME)

"""World stage: the `World` value; `kmsprove.inputs.world_file` builds it from files.

A `World` is everything that decides access to the keys: keys with their
policies and grants, accounts (open or complete) with principals, SCPs and
RCPs, S3 buckets and VPC endpoint policies. Document values may be inline,
paths relative to the world file, or AWS CLI output (`get-key-policy`,
`list-grants`, `get-account-authorization-details`).
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kmsprove.arn import parse_caller
from kmsprove.ast import NOWHERE, Grant, Policy
from kmsprove.errors import SourcePos
from kmsprove.frozen import Picklable


def _empty() -> Mapping[str, Any]:
    return types.MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Key:
    arn: str
    policy: Policy
    grants: tuple[Grant, ...] = ()
    manager: str = "CUSTOMER"  # CUSTOMER | AWS (R7.5)
    state: str = "Enabled"  # R9.2
    aliases: tuple[str, ...] = ()  # `alias/NAME`
    ram_policy: Policy | None = None  # the AWS_RAM key policy (R1.14)
    key_spec: str = "SYMMETRIC_DEFAULT"
    key_usage: str = "ENCRYPT_DECRYPT"
    origin: str = "AWS_KMS"
    multi_region: bool = False
    multi_region_key_type: str | None = None  # PRIMARY | REPLICA
    tags: tuple[tuple[str, str], ...] = ()
    pos: SourcePos = field(default=NOWHERE, compare=False)

    @property
    def region(self) -> str:
        return self.arn.split(":")[3]

    @property
    def account(self) -> str:
        return self.arn.split(":")[4]

    @property
    def key_id(self) -> str:
        return self.arn.split(":", 5)[5].split("/", 1)[1]

    @property
    def is_symmetric_encryption(self) -> bool:
        return self.key_spec == "SYMMETRIC_DEFAULT" and self.key_usage == "ENCRYPT_DECRYPT"

    @property
    def policies(self) -> tuple[Policy, ...]:
        """KP means both key policies (R1.14)."""
        return (self.policy,) if self.ram_policy is None else (self.policy, self.ram_policy)


@dataclass(frozen=True, slots=True)
class Identity:
    """An IAM user or role of the world, with what it carries."""

    arn: str
    policies: tuple[Policy, ...] = ()  # its own, its groups' and attached managed ones
    boundary: Policy | None = None
    tags: tuple[tuple[str, str], ...] = ()
    trust_policy: Policy | None = None  # roles only
    groups: tuple[str, ...] = ()
    unknown_documents: tuple[str, ...] = ()  # managed policies named but not supplied
    unique_id: str | None = None  # `AIDA...` / `AROA...`: how ListGrants may name it
    pos: SourcePos = field(default=NOWHERE, compare=False)

    @property
    def account(self) -> str:
        return self.arn.split(":")[4]

    @property
    def kind(self) -> str:
        return parse_caller(self.arn).kind

    @property
    def name(self) -> str:
        return parse_caller(self.arn).name


@dataclass(frozen=True, slots=True)
class Account(Picklable):
    id: str
    complete: bool = False  # False: principals we were not told about may exist (open)
    organization: str | None = None
    management: bool = False  # the organization's management account: no SCP/RCP applies
    scps: tuple[Policy, ...] = ()  # empty: FullAWSAccess only
    rcps: tuple[Policy, ...] = ()  # empty: RCPFullAWSAccess only
    principals: Mapping[str, Identity] = field(default_factory=_empty)
    enabled_regions: tuple[str, ...] | None = None  # None: every Region enabled (R1.8)
    # (kind, name) -> identity, so a session finds its role without a scan
    by_name: Mapping[tuple[str, str], Identity] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        index: dict[tuple[str, str], Identity] = {}
        for ident in self.principals.values():
            c = parse_caller(ident.arn)
            index.setdefault((c.kind, c.name), ident)
        object.__setattr__(self, "by_name", types.MappingProxyType(index))

    def with_principals(self, idents: Mapping[str, Identity]) -> Account:
        """The account with these identities replaced or added. An `ever` replay
        rewrites thousands of identities one by one: the index is updated, not rebuilt
        from every principal (quadratic on a 5,000-role account)."""
        principals = {**self.principals, **idents}
        index = dict(self.by_name)
        for ident in idents.values():
            c = parse_caller(ident.arn)
            held = index.get((c.kind, c.name))
            if held is None or held.arn == ident.arn:
                index[(c.kind, c.name)] = ident
        out = object.__new__(Account)
        for f in dataclasses.fields(self):
            if f.init:
                object.__setattr__(out, f.name, getattr(self, f.name))
        object.__setattr__(out, "principals", types.MappingProxyType(principals))
        object.__setattr__(out, "by_name", types.MappingProxyType(index))
        return out

    @property
    def scps_apply(self) -> bool:
        """SCPs bind the account's principals (R1.10): an account given SCPs is an
        organization member, its organization id known or not; the management account
        is never bound."""
        return bool(self.scps) and not self.management

    @property
    def rcps_apply(self) -> bool:
        """RCPs bind the account's resources (R1.10), on the same terms as SCPs."""
        return bool(self.rcps) and not self.management

    def region_enabled(self, region: str) -> bool:
        return self.enabled_regions is None or region in self.enabled_regions


@dataclass(frozen=True, slots=True)
class Unresolved:
    """Something that decides access and could not be read or resolved: a key policy
    the collector was refused (AccessDenied), a template value only known at deploy
    time (`Fn::ImportValue`, an SSM parameter, a Terraform value known after apply).
    An answer it may change is unknown, never a "no" or a "yes" (`questions.hedge`).
    `key`: the key ARN whose decision it is part of; None: any key's (an identity
    policy, an SCP)."""

    reason: str
    key: str | None = None
    pos: SourcePos = field(default=NOWHERE, compare=False)

    def concerns(self, key: str | None) -> bool:
        return self.key is None or key is None or self.key == key


@dataclass(frozen=True, slots=True)
class Bucket:
    arn: str
    account: str
    region: str = "us-east-1"
    policy: Policy | None = None
    kms_key: str | None = None  # default encryption key, a key ARN (R8.3)
    bucket_key: bool = False  # S3 Bucket Key: EC is the bucket ARN (R8.2)
    pos: SourcePos = field(default=NOWHERE, compare=False)

    @property
    def name(self) -> str:
        return self.arn.split(":::", 1)[-1]


@dataclass(frozen=True, slots=True)
class World(Picklable):
    keys: tuple[Key, ...] = ()
    accounts: Mapping[str, Account] = field(default_factory=_empty)
    buckets: tuple[Bucket, ...] = ()
    vpc_endpoints: Mapping[str, Policy] = field(default_factory=_empty)
    file: str = "<world>"
    unknowns: tuple[Unresolved, ...] = ()  # what the inputs could not settle
    # what a reader assumed where the input is silent (a default account or Region):
    # every answer repeats it
    assumed: tuple[str, ...] = ()

    def account(self, account_id: str) -> Account:
        """The account as the world knows it; an unknown account is open."""
        return self.accounts.get(account_id) or Account(account_id)

    def is_open(self, account_id: str) -> bool:
        return not self.account(account_id).complete

    def identity(self, arn: str) -> Identity | None:
        """A user or role by ARN; a session resolves to its role (path ignored)."""
        caller = parse_caller(arn)
        if caller.account is None:
            return None
        acct = self.accounts.get(caller.account)
        if acct is None:
            return None
        if arn in acct.principals:
            return acct.principals[arn]
        if caller.kind in ("assumed-role", "role"):
            return acct.by_name.get(("role", caller.name))
        if caller.kind == "user":
            return acct.by_name.get(("user", caller.name))
        return None

    def find_key(self, ref: str) -> Key | None:
        """A key by ARN, key id, alias name (`alias/x`) or alias ARN."""
        for k in self.keys:
            if ref in (k.arn, k.key_id):
                return k
            if ref.startswith("alias/") and ref in k.aliases:
                return k
            if (
                ":alias/" in ref
                and ref.split(":", 5)[5] in k.aliases
                and ref.split(":")[4] == k.account
            ):
                return k
        return None

    def bucket(self, arn: str) -> Bucket | None:
        for b in self.buckets:
            if arn == b.arn or arn.startswith(b.arn + "/"):
                return b
        return None

    def open_accounts(self) -> list[str]:
        return sorted(a.id for a in self.accounts.values() if not a.complete)

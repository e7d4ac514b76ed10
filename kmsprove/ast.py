"""AST stage: frozen dataclasses for policies and grants, with source positions.

Built from positioned JSON by `kmsprove.syntax.policy` and `syntax.grant`; read by
the input readers, the evaluator and the encoder. Values keep AWS's spelling;
normalisation that AWS itself performs (an account id in `Principal` becomes
`arn:aws:iam::ACCT:root`, R2.1) happens when building.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from kmsprove.errors import SourcePos

NOWHERE = SourcePos("<built-in>", 1, 1)


class Effect(enum.Enum):
    ALLOW = "Allow"  # grants, unless something denies
    DENY = "Deny"  # ends evaluation (R1.3)


class PolicyKind(enum.Enum):
    KEY_POLICY = "key-policy"  # resource policy on a KMS key
    IDENTITY = "identity-policy"  # attached to a user, role or group; also boundaries
    SESSION = "session-policy"  # passed when a session was created; caps like a boundary
    BUCKET = "bucket-policy"  # S3 resource policy
    SCP = "scp"  # service control policy (caller's account)
    RCP = "rcp"  # resource control policy (key's account)
    VPCE = "vpce-policy"  # VPC endpoint policy
    TRUST = "trust-policy"  # a role's assume-role policy

    @property
    def is_resource_policy(self) -> bool:
        """Resource policies name principals; identity-side policies never do."""
        return self in (
            PolicyKind.KEY_POLICY,
            PolicyKind.BUCKET,
            PolicyKind.RCP,
            PolicyKind.VPCE,
            PolicyKind.TRUST,
        )


class SetOp(enum.Enum):
    FOR_ALL_VALUES = "ForAllValues"  # every request value matches; true when absent (R6.8)
    FOR_ANY_VALUE = "ForAnyValue"  # some request value matches; false when absent


@dataclass(frozen=True, slots=True)
class Principal:
    """One entry of a Principal/NotPrincipal element.

    `kind` is the map key (`AWS`, `Service`, `Federated`, `CanonicalUser`) or
    `*` for the bare wildcard `"Principal": "*"` (which equals `{"AWS": "*"}`, R2.8).
    An account id is stored as `arn:aws:iam::ACCT:root` (R2.1).
    """

    kind: str
    value: str
    pos: SourcePos = field(default=NOWHERE, compare=False)

    @property
    def is_wildcard(self) -> bool:
        return self.value == "*" and self.kind in ("*", "AWS")


@dataclass(frozen=True, slots=True)
class Condition:
    """One (operator, key, values) test of a Condition block.

    `values` are strings: JSON `true` is `"true"`, the number 10 is `"10"`.
    """

    operator: str  # as written: `ForAnyValue:StringLikeIfExists`
    base: str  # the plain operator: `StringLike`
    set_op: SetOp | None
    if_exists: bool
    key: str  # as written; compare lower-cased (R5.4)
    values: tuple[str, ...]
    pos: SourcePos = field(default=NOWHERE, compare=False)


@dataclass(frozen=True, slots=True)
class Statement:
    """A policy statement. `None` means the element is absent."""

    effect: Effect
    sid: str | None = None
    principal: tuple[Principal, ...] | None = None
    not_principal: tuple[Principal, ...] | None = None
    action: tuple[str, ...] | None = None
    not_action: tuple[str, ...] | None = None
    resource: tuple[str, ...] | None = None
    not_resource: tuple[str, ...] | None = None
    conditions: tuple[Condition, ...] = ()
    pos: SourcePos = field(default=NOWHERE, compare=False)


@dataclass(frozen=True, slots=True)
class Policy:
    kind: PolicyKind
    statements: tuple[Statement, ...]
    version: str | None = "2012-10-17"
    id: str | None = None
    name: str = ""  # for reports: a file name or a managed policy name
    pos: SourcePos = field(default=NOWHERE, compare=False)

    @property
    def variables_enabled(self) -> bool:
        """Policy variables are substituted only under Version 2012-10-17 (R6.10)."""
        return self.version == "2012-10-17"


@dataclass(frozen=True, slots=True)
class Grant:
    """A KMS grant in the ListGrants shape (R4.1)."""

    grant_id: str
    key_id: str
    operations: tuple[str, ...]  # grant operation names without `kms:` (R3.4)
    grantee: str | None = None  # GranteePrincipal: an ARN, or a service principal name
    grantee_service: str | None = None  # GranteeServicePrincipal
    retiring: str | None = None  # RetiringPrincipal
    retiring_service: str | None = None  # RetiringServicePrincipal
    ec_subset: tuple[tuple[str, str], ...] | None = None  # EncryptionContextSubset
    ec_equals: tuple[tuple[str, str], ...] | None = None  # EncryptionContextEquals
    source_arn: str | None = None  # Constraints.SourceArn
    issuing_account: str | None = None  # account id of IssuingAccount
    name: str = ""
    pos: SourcePos = field(default=NOWHERE, compare=False)
    # (unique id, ARN) for a grantee or retiring principal ListGrants showed as a unique
    # id and the world resolved (`kmsprove.inputs.unique_ids`): for reports only
    resolved: tuple[tuple[str, str], ...] = field(default=(), compare=False)


# --------------------------------------------------------------------------
# queries: `can <who> [ever] <actions> [on <target>] [where <cond> {and <cond>}]`


class WhoKind(enum.Enum):
    ANYONE = "anyone"  # any signed request: IAM principals of any account, roots, services
    ANY_PRINCIPAL = "any principal"  # the same as anyone
    OUTSIDE_ACCOUNTS = "outside account"  # any principal whose account is not listed
    IN_ACCOUNTS = "in account"  # any principal of the listed accounts
    OUTSIDE_ORG = "outside org"  # any principal whose account is not in the organization
    PRINCIPAL = "principal"  # one ARN, or a pattern with * and ?
    SERVICE = "service"  # a service principal name


@dataclass(frozen=True, slots=True)
class Who:
    kind: WhoKind
    accounts: tuple[str, ...] = ()
    org: str | None = None
    pattern: str | None = None  # PRINCIPAL: ARN or pattern; SERVICE: the name
    iam_only: bool = False  # `any iam principal ...`: AWS service principals left out
    pos: SourcePos = field(default=NOWHERE, compare=False)


class CondOp(enum.Enum):
    EQ = "=="
    NE = "!="
    LIKE = "like"  # glob with * and ?, as StringLike
    HAS = "has"  # the key is present
    NOT_HAS = "not has"  # the key is absent
    NOT_LIKE = "not like"  # internal (`ever` grantee classes); not in the query language


@dataclass(frozen=True, slots=True)
class QueryCond:
    key: str  # a condition key, e.g. `kms:EncryptionContext:Dept`, `aws:SourceIp`
    op: CondOp
    value: str | None = None  # None for HAS / NOT_HAS
    pos: SourcePos = field(default=NOWHERE, compare=False)


@dataclass(frozen=True, slots=True)
class Target:
    kind: str  # "key" (ARN, id or alias/NAME) or "bucket" (ARN)
    ref: str
    pos: SourcePos = field(default=NOWHERE, compare=False)


@dataclass(frozen=True, slots=True)
class Query:
    who: Who
    actions: tuple[str, ...]  # as written, wildcards allowed (`kms:ReEncrypt*`)
    ever: bool = False
    target: Target | None = None  # None: the world's only key, or every key
    conditions: tuple[QueryCond, ...] = ()
    text: str = ""
    pos: SourcePos = field(default=NOWHERE, compare=False)


@dataclass(frozen=True, slots=True)
class Expectation:
    """One spec line: `expect yes: QUERY` (expect=True) or `expect no: QUERY`."""

    expect: bool
    query: Query
    line: int  # 1-based line of the spec file
    pos: SourcePos = field(compare=False)

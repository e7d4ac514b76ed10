"""Shared vocabulary: `Request` (one call to AWS), `Decision` and its reasons, `Via`.

The context AWS derives for a request (`kmsprove.evaluate.context`) and its twin in
the encoder (`kmsprove.encode.derive`) build on these types; this module holds no
rule of its own.
"""

from __future__ import annotations

import enum
import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from kmsprove.arn import parse_caller, session_of
from kmsprove.ast import Policy
from kmsprove.catalog import is_multi_valued
from kmsprove.errors import SourcePos
from kmsprove.frozen import Picklable

EC_PREFIX = "kms:encryptioncontext:"


@dataclass(frozen=True, slots=True)
class Context(Picklable):
    """Condition keys of a request: name -> values, names compared lower-cased.

    A single-valued key holds one value. `open_keys` maps a key to the states
    the documentation leaves open (kms-semantics.md section 10), each a tuple
    of values or `None` for absent: a condition whose result depends on the
    state holds in an Allow and fails in a Deny.
    """

    values: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: types.MappingProxyType({})
    )
    names: Mapping[str, str] = field(default_factory=lambda: types.MappingProxyType({}))
    open_keys: Mapping[str, tuple[tuple[str, ...] | None, ...]] = field(
        default_factory=lambda: types.MappingProxyType({})
    )

    @staticmethod
    def of(pairs: Mapping[str, str | Iterable[str]] | None = None) -> Context:
        """A context from name -> value(s).

        Names differing only in case (`kms:EncryptionContext:Dept` and `...:dept`)
        are one condition key (R5.4); which value AWS tests is unstated (10.23),
        so each distinct value becomes a state of an open key (per effect).
        """
        values: dict[str, tuple[str, ...]] = {}
        names: dict[str, str] = {}
        states: dict[str, list[tuple[str, ...]]] = {}
        for name, v in (pairs or {}).items():
            vals = (v,) if isinstance(v, str) else tuple(v)
            values[name.lower()] = vals
            names[name.lower()] = name
            seen = states.setdefault(name.lower(), [])
            if vals not in seen:
                seen.append(vals)
        open_keys = {k: tuple(v) for k, v in states.items() if len(v) > 1}
        return Context(
            types.MappingProxyType(values),
            types.MappingProxyType(names),
            types.MappingProxyType(open_keys),
        )

    def get(self, name: str) -> tuple[str, ...] | None:
        return self.values.get(name.lower())

    def has(self, name: str) -> bool:
        return name.lower() in self.values

    def with_values(self, pairs: Mapping[str, str | Iterable[str]]) -> Context:
        merged: dict[str, str | Iterable[str]] = {self.names[k]: v for k, v in self.values.items()}
        merged.update(pairs)
        out = Context.of(merged)
        return replace(out, open_keys=types.MappingProxyType({**out.open_keys, **self.open_keys}))

    def with_open(self, name: str, states: tuple[tuple[str, ...] | None, ...]) -> Context:
        keys = dict(self.open_keys)
        keys[name.lower()] = states
        return replace(self, open_keys=types.MappingProxyType(keys))

    def encryption_context(self) -> dict[str, str]:
        """The request's encryption context, from `kms:EncryptionContext:<k>` keys."""
        out = {}
        for low, vals in self.values.items():
            if low.startswith(EC_PREFIX) and vals:
                out[self.names[low][len(EC_PREFIX) :]] = vals[0]
        return out

    def as_json(self) -> dict[str, str | list[str]]:
        out: dict[str, str | list[str]] = {}
        for low, vals in sorted(self.values.items()):
            name = self.names[low]
            out[name] = vals[0] if len(vals) == 1 and not is_multi_valued(low) else list(vals)
        return out


@dataclass(frozen=True, slots=True)
class Request:
    """One call: who, which action, on what, with which context."""

    principal: str  # caller ARN, or a service principal name
    action: str  # `kms:Decrypt`, `s3:GetObject`
    key: str | None = None  # KMS key ARN
    resource: str | None = None  # S3 object ARN for composed reads
    context: Context = field(default_factory=Context)
    session_policy: Policy | None = None
    via_vpce: str | None = None  # the call came through this KMS VPC endpoint
    grant_id: str | None = None  # RetireGrant / RevokeGrant target
    key_id_as_sent: str | None = None  # how the caller named the key (alias -> RequestAlias)
    federated_from: str | None = None  # the IAM user behind a federated-user session (R2.6)
    new_policy: Policy | None = None  # PutKeyPolicy's Policy parameter (lockout check, R7.1)
    notes: tuple[str, ...] = ()  # what kmsprove assumed in reading the request, for answers

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {"principal": self.principal, "action": self.action}
        if self.key:
            out["key"] = self.key
        if self.resource:
            out["resource"] = self.resource
        out["context"] = self.context.as_json()
        if self.grant_id:
            out["grant_id"] = self.grant_id
        if self.via_vpce:
            out["via_vpce"] = self.via_vpce
        return out


class Via(enum.Enum):
    """How a resource-policy principal entry covered the caller (R1.6 rows)."""

    USER = "user"  # the IAM user ARN
    FEDERATED_USER = "federated user"  # the IAM user behind a GetFederationToken session
    ROLE = "role"  # the role ARN, covering its sessions
    SESSION = "session"  # the exact assumed-role or federated-user session ARN
    WILDCARD = "wildcard"  # Principal "*"
    ACCOUNT = "account"  # arn:aws:iam::ACCT:root: the account delegates (R1.4)
    SERVICE = "service"  # a service principal calling as itself (R2.7)


class Layer(enum.Enum):
    SCP = "scp"
    RCP = "rcp"
    VPCE = "vpce-policy"
    KEY_POLICY = "key-policy"
    IDENTITY = "identity-policy"
    BOUNDARY = "boundary"
    SESSION = "session-policy"
    GRANTS = "grants"
    BUCKET = "bucket-policy"


@dataclass(frozen=True, slots=True)
class StatementRef:
    """A statement (or grant) that a layer looked at, and what came of it."""

    sid: str | None
    file: str
    line: int
    col: int = 1
    matched: bool = True
    effect: str = "Allow"
    why: str = ""

    @staticmethod
    def at(sid: str | None, pos: SourcePos, matched: bool, effect: str, why: str) -> StatementRef:
        return StatementRef(sid, pos.file, pos.line, pos.col, matched, effect, why)


@dataclass(frozen=True, slots=True)
class LayerResult:
    """One layer's verdict: `allow`, `deny` (explicit), `none` (no match), `n/a`."""

    layer: Layer
    effect: str
    statements: tuple[StatementRef, ...] = ()
    note: str = ""
    subject: str = ""  # which request of a composed call (`kms:Decrypt by S3`)


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    layers: tuple[LayerResult, ...] = ()
    reason: str = ""  # one line: why the decision came out this way
    blocked_by: str | None = None  # allowed, but the call fails for key state or type (R1.12)
    warnings: tuple[str, ...] = ()  # answers that rest on a section-10 default
    # a deny that may be wrong, and why: a grant the request could use names a unique
    # id the world did not resolve, whose principal may be the caller (docs/choices.md)
    unknown: str | None = None

    @property
    def decision(self) -> str:
        """`allow`, `deny`, or `unknown` (a deny that may be wrong)."""
        if self.allowed:
            return "allow"
        return "deny" if self.unknown is None else "unknown"


def as_session(req: Request) -> tuple[Request, str | None]:
    """A role ARN as the caller means a session of it (R1.2; AWS's policy simulator
    takes role ARNs too): the request its session sends, and the note that says so
    (None when the caller is no role)."""
    if parse_caller(req.principal).kind != "role":
        return req, None
    session = session_of(req.principal)
    return replace(req, principal=session), (
        f"`{req.principal}` is a role: decided for its session `{session}`"
    )

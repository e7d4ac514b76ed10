"""Shared vocabulary: `Request` (one call to AWS), `Decision` and its reasons.

`complete_request` derives the request context AWS would build from the
caller and the world (aws:PrincipalArn, kms:CallerAccount, tags, key
properties, kms:EncryptionContextKeys...). A value the caller gives explicitly
wins; one that contradicts what the world says is an input error.
"""

from __future__ import annotations

import enum
import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from kmsprove.arn import parse_caller
from kmsprove.ast import Policy
from kmsprove.catalog import action_info
from kmsprove.errors import InputError, SourcePos
from kmsprove.world import World

EC_PREFIX = "kms:encryptioncontext:"


@dataclass(frozen=True, slots=True)
class Context:
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
            types.MappingProxyType(open_keys),  # type: ignore[arg-type]
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
            out[name] = vals[0] if len(vals) == 1 and not _multi_valued(low) else list(vals)
        return out


MULTI_VALUED = (
    "kms:encryptioncontextkeys",
    "kms:grantoperations",
    "kms:resourcealiases",
    "aws:calledvia",
    "aws:tagkeys",
)


def _multi_valued(low: str) -> bool:
    return low in MULTI_VALUED


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

    @property
    def decision(self) -> str:
        return "allow" if self.allowed else "deny"


# --------------------------------------------------------------------------
# deriving the context AWS builds


def derived_context(world: World, req: Request) -> dict[str, str | tuple[str, ...]]:
    """The keys AWS puts in the context of `req`, from the caller and the key."""
    out: dict[str, str | tuple[str, ...]] = {
        "aws:SecureTransport": "true",  # KMS endpoints are TLS only (R5.3)
    }
    caller = parse_caller(req.principal)
    if caller.is_service:
        out["aws:PrincipalIsAWSService"] = "true"
        out["aws:PrincipalServiceName"] = caller.arn
    elif caller.account:
        acct = world.account(caller.account)
        ident = world.identity(req.principal)
        if caller.kind == "assumed-role":
            principal_arn = ident.arn if ident else caller.principal_arn
        else:
            principal_arn = caller.arn
        out["aws:PrincipalArn"] = principal_arn
        out["aws:PrincipalAccount"] = caller.account
        out["aws:PrincipalIsAWSService"] = "false"
        out["aws:PrincipalType"] = {
            "root": "Account",
            "user": "User",
            "assumed-role": "AssumedRole",
            "federated-user": "FederatedUser",
        }.get(caller.kind, "Unknown")
        if caller.kind == "user":
            out["aws:username"] = caller.name
        if acct.organization:
            out["aws:PrincipalOrgID"] = acct.organization
        if ident is not None:
            for k, v in ident.tags:
                out[f"aws:PrincipalTag/{k}"] = v
    via = req.context.get("kms:ViaService")
    out["aws:ViaAWSService"] = "true" if via else "false"
    info = action_info(req.action)
    key = world.find_key(req.key) if req.key else None
    if info is not None and info.on_key and caller.account:
        out["kms:CallerAccount"] = caller.account
    if info is not None and info.on_key and key is not None:
        out["aws:RequestedRegion"] = key.region
        out["kms:KeySpec"] = key.key_spec
        out["kms:KeyUsage"] = key.key_usage
        out["kms:KeyOrigin"] = key.origin
        out["kms:MultiRegion"] = "true" if key.multi_region else "false"
        if key.multi_region and key.multi_region_key_type:
            out["kms:MultiRegionKeyType"] = key.multi_region_key_type
        if key.aliases:
            out["kms:ResourceAliases"] = tuple(key.aliases)
        for k, v in key.tags:
            out[f"aws:ResourceTag/{k}"] = v
    if info is not None and info.encryption_context:
        ec = req.context.encryption_context()
        if ec:
            out["kms:EncryptionContextKeys"] = tuple(ec)
    if info is not None and info.short in ("GetKeyPolicy", "PutKeyPolicy"):
        out["kms:PolicyName"] = "default"
    sent = req.key_id_as_sent or ""
    if info is not None and "kms:RequestAlias" in info.condition_keys and "alias/" in sent:
        out["kms:RequestAlias"] = "alias/" + sent.split("alias/", 1)[1]
    return out


# Keys the caller may not contradict: they follow from who the caller is.
# Every key `derived_context` may add (lower case): reports leave them out of commands
# that reproduce a request, and diff's readable witnesses leave them to the world.
DERIVED_KEYS = frozenset(
    {
        "aws:principalarn",
        "aws:principalaccount",
        "kms:calleraccount",
        "aws:principalisawsservice",
        "aws:principaltype",
        "aws:principalorgid",
        "aws:principalservicename",
        "aws:username",
        "aws:securetransport",
        "aws:viaawsservice",
        "aws:requestedregion",
        "kms:keyspec",
        "kms:keyusage",
        "kms:keyorigin",
        "kms:multiregion",
        "kms:multiregionkeytype",
        "kms:resourcealiases",
        "kms:encryptioncontextkeys",
    }
)
FIXED_KEYS = ("aws:principalarn", "aws:principalaccount", "kms:calleraccount", "aws:principalorgid")


def complete_request(world: World, req: Request, where: SourcePos | None = None) -> Request:
    """`req` with the derived context added under the caller's explicit values."""
    derived = derived_context(world, req)
    problems = []
    for name, value in derived.items():
        given = req.context.get(name)
        want = (value,) if isinstance(value, str) else tuple(value)
        if given is not None and name.lower() in FIXED_KEYS and tuple(given) != want:
            problems.append(
                f"context `{name}` = `{', '.join(given)}` contradicts the caller `{req.principal}`,"
                f" for which it is `{', '.join(want)}`"
            )
    if problems:
        pos = where or SourcePos("<request>")
        raise InputError([InputError.at(pos, p).diagnostics[0] for p in problems])
    missing = {k: v for k, v in derived.items() if not req.context.has(k)}
    ctx = req.context.with_values(missing)
    for name, states in open_states(req, ctx).items():
        if not ctx.has(name):
            ctx = ctx.with_open(name, states)
    return replace(req, context=ctx)


def open_states(req: Request, ctx: Context) -> dict[str, tuple[tuple[str, ...] | None, ...]]:
    """Keys whose presence the documentation leaves open for this request (section 10)."""
    out: dict[str, tuple[tuple[str, ...] | None, ...]] = {}
    info = action_info(req.action)
    via = ctx.get("kms:ViaService")
    if info is not None and info.short in ("CreateGrant", "ListGrants", "RevokeGrant") and not via:
        out["kms:GrantIsForAWSResource"] = (None, ("false",))  # 10.22
    if via:
        service = via[0].split(".")[0] + ".amazonaws.com"
        out["aws:CalledVia"] = (None, (service,))  # 10.15
    return out

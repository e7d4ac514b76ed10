"""AST/world stage, validation: grants (R4), on their own and against their key.

`Grant` -> `Diagnostic`s on its own (`check_grant`, for a grants file); with its key
(`grant_problems`, for a world): whether it fits the key (R3.5) and whether the
world resolved a unique id it names.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

from kmsprove.arn import ACCOUNT_RE, KEY_ID_RE, key_arn_parts, parse_arn, unique_id_kind
from kmsprove.ast import Grant
from kmsprove.catalog import grant_operations, key_usage_operations, usage_class
from kmsprove.errors import Diagnostic, error, printable, suggest, warning
from kmsprove.validate.principals import caller_arn_problem, service_name_problem
from kmsprove.world import Key

GRANT_PRINCIPAL_FORMS = (
    "expected an account, user, role, assumed-role or federated-user ARN, "
    "or a user's or role's unique id (`AIDA...`, `AROA...`)"
)
KEY_NAME_RE = re.compile(r"[A-Za-z0-9-]+")  # what a key ARN's id may look like in samples
MAX_EC_PAIRS = 8  # R4.5
MAX_EC_VALUE = 384


# -- grants ------------------------------------------------------------------


def _principal_problem(value: str, field: str) -> tuple[bool, str] | None:
    """(is_error, message) for a GranteePrincipal/RetiringPrincipal value."""
    if "." in value and not value.startswith("arn:"):
        problem = service_name_problem(value, f"`{field}`")
        if problem:
            return True, problem
        if field == "GranteePrincipal":
            return False, (
                f"grantee `{value}` is a service principal: AWS does not say which principals "
                "such a grant covers, so kmsprove treats its grantees as unknown"
            )
        return None
    if unique_id_kind(value) is not None:
        return None  # resolved through the world's principals; `_unresolved` warns
    problem = caller_arn_problem(value, GRANT_PRINCIPAL_FORMS, service_sessions=True)
    return None if problem is None else (True, f"`{field}` {problem}")


@cache
def _grant_ops() -> frozenset[str]:
    return frozenset(grant_operations())


@cache
def _typed_ops() -> frozenset[str]:
    """Operations that depend on the key type (R3.5); the others (DescribeKey...) always fit."""
    return frozenset(op for ops in key_usage_operations().values() for op in ops)


def _operations_problems(g: Grant) -> list[Diagnostic]:
    if not g.operations:
        return [error(g.pos, "grant has no operations: `Operations` must list at least one")]
    ops = _grant_ops()
    out = []
    for op in g.operations:
        if op not in ops:
            bare = op.split(":", 1)[1] if op.lower().startswith("kms:") else op
            hint = suggest(bare, sorted(ops))
            out.append(error(g.pos, f"`{op}` is not a grant operation" + hint))
    return out


def _key_id_problem(g: Grant) -> Diagnostic | None:
    found = _key_id_message(g.key_id)
    return None if found is None else (error if found[0] else warning)(g.pos, found[1])


@lru_cache(maxsize=1024)  # every grant of a key names the same key
def _key_id_message(k: str) -> tuple[bool, str] | None:
    """(is_error, message) for a grant's KeyId, or None."""
    if not k:
        return False, "grant has no `KeyId`: which key it is for is unknown"
    parts = key_arn_parts(k)
    if KEY_ID_RE.fullmatch(parts[2] if parts else k):
        return None
    if k.startswith("alias/") or ":alias/" in k:
        return True, f"grant `KeyId` `{k}` is an alias: grants are bound to a key"
    if parts is not None and KEY_NAME_RE.fullmatch(parts[2]):
        # documentation samples (`key/example-key-id`): the ARN still names one key
        return False, (
            f"grant `KeyId` `{k}`: `{parts[2]}` is not a key id AWS issues "
            "(a UUID, or `mrk-` and 32 hex digits)"
        )
    return True, f"grant `KeyId` `{k}` is not a key ARN or key id"


def _constraint_problems(g: Grant) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for name, pairs in (
        ("EncryptionContextSubset", g.ec_subset),
        ("EncryptionContextEquals", g.ec_equals),
    ):
        if pairs is None:
            continue
        if len(pairs) > MAX_EC_PAIRS:
            out.append(
                error(g.pos, f"`{name}` has {len(pairs)} pairs; a grant constraint holds at most 8")
            )
        for k, v in pairs:
            if len(v) > MAX_EC_VALUE:
                out.append(
                    error(
                        g.pos,
                        f"`{name}` value for `{k}` has {len(v)} characters; at most 384 are allowed",
                    )
                )
    if g.source_arn is not None and parse_arn(g.source_arn) is None:
        out.append(error(g.pos, f"`SourceArn` `{g.source_arn}` is not an ARN"))
    return out


def check_grant(g: Grant) -> list[Diagnostic]:
    """Every problem of one grant on its own (R4.1, R4.3, R4.5)."""
    return printable(_grant_problems(g))


def _grant_problems(g: Grant) -> list[Diagnostic]:
    out = _operations_problems(g)
    d = _key_id_problem(g)
    if d is not None:
        out.append(d)
    if g.grantee is not None and g.grantee_service is not None:
        out.append(
            error(g.pos, "a grant has `GranteePrincipal` or `GranteeServicePrincipal`, not both")
        )
    if g.retiring is not None and g.retiring_service is not None:
        out.append(
            error(g.pos, "a grant has `RetiringPrincipal` or `RetiringServicePrincipal`, not both")
        )
    if g.grantee_service is not None:
        if g.source_arn is None:
            out.append(
                error(
                    g.pos, "a grant to a `GranteeServicePrincipal` needs a `SourceArn` constraint"
                )
            )
        if g.retiring is None and g.retiring_service is None:
            out.append(
                error(
                    g.pos,
                    "a grant to a `GranteeServicePrincipal` needs a `RetiringPrincipal` "
                    "or `RetiringServicePrincipal`",
                )
            )
    for field, value in (("GranteePrincipal", g.grantee), ("RetiringPrincipal", g.retiring)):
        found = _principal_problem(value, field) if value is not None else None
        if found is not None:
            out.append((error if found[0] else warning)(g.pos, found[1]))
    for field, value in (
        ("GranteeServicePrincipal", g.grantee_service),
        ("RetiringServicePrincipal", g.retiring_service),
    ):
        problem = service_name_problem(value, f"`{field}`") if value is not None else None
        if problem:
            out.append(error(g.pos, problem))
    if g.issuing_account is not None and not ACCOUNT_RE.fullmatch(g.issuing_account):
        out.append(
            error(
                g.pos,
                f"`IssuingAccount` `{g.issuing_account}` is not an account id "
                "or `arn:aws:iam::ACCOUNT:root`",
            )
        )
    out.extend(_constraint_problems(g))
    return out


# -- grants against their key ------------------------------------------------


@cache
def key_usages() -> tuple[str, ...]:
    """The KeyUsage values the catalogue knows (R3.5)."""
    return tuple(sorted({name.split("/")[0] for name in key_usage_operations()}))


def _usage_row(key: Key) -> str | None:
    """The catalogue's `key_usage_operations` row for a key (R3.5), or None if unknown."""
    row = usage_class(key.key_spec, key.key_usage)
    return row if row in key_usage_operations() else None


def grant_problems(key: Key) -> list[Diagnostic]:
    """Every problem of the key's grants, each on its own and against the key."""
    out: list[Diagnostic] = []
    for g in key.grants:
        out.extend(_grant_problems(g))
        out.extend(_grant_fit(key, g))
    out.extend(_unresolved(key))
    return out


def _grant_fit(key: Key, g: Grant) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    if g.key_id and g.key_id not in (key.arn, key.key_id):
        out.append(
            error(g.pos, f"grant `{g.grant_id}` is for key `{g.key_id}`, not this key `{key.arn}`")
        )
    usage = _usage_row(key)
    if usage is not None:
        fit = key_usage_operations()[usage]
        crypto = _typed_ops()
        out.extend(
            error(
                g.pos,
                f"grant operation `{op}` does not fit key `{key.arn}` "
                f"({key.key_spec}, {key.key_usage}): KMS rejects such grants",
            )
            for op in g.operations
            if op in crypto and op not in fit
        )
    if (g.ec_subset is not None or g.ec_equals is not None) and not key.is_symmetric_encryption:
        out.append(
            warning(
                g.pos,
                f"grant `{g.grant_id}` has an encryption context constraint, but key `{key.arn}` "
                "is not a symmetric encryption key: KMS does not apply it",
            )
        )
    return out


def _unresolved(key: Key) -> list[Diagnostic]:
    """Unique ids the world's principals did not resolve (`inputs.unique_ids`)."""
    return [
        warning(
            g.pos,
            f"grant `{g.grant_id}`'s {role} `{value}` is not among the world's principals "
            "(give `unique_id` on the principal, or import get-account-authorization-details): "
            "its principal and account are unknown, so answers it could change are unknown",
        )
        for g in key.grants
        for role, value in (("grantee", g.grantee), ("retiring principal", g.retiring))
        if value is not None and unique_id_kind(value) is not None
    ]

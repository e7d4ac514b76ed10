"""AST/world stage, validation: grants (R4) and what only shows across documents.

`Grant` -> `Diagnostic`s on its own; `World` -> `Diagnostic`s for grants
against their key (R3.5), key policies against the key's account (R3.2),
identities with missing documents, buckets' default keys (R8.3, R8.4) and key
properties. Policies themselves are checked by `check_policy` when loaded.
"""

from __future__ import annotations

from functools import cache, lru_cache

from kmsprove.arn import ACCOUNT_RE, KEY_ID_RE, key_arn_parts, parse_arn, parse_caller
from kmsprove.ast import Effect, Grant, Policy
from kmsprove.catalog import (
    action_info,
    expand,
    grant_operations,
    key_usage_operations,
    usage_class,
)
from kmsprove.errors import Diagnostic, error, printable, suggest, warning
from kmsprove.validate.principals import caller_arn_problem, service_name_problem
from kmsprove.world import Key, World

GRANT_PRINCIPAL_FORMS = "expected an account, user, role, assumed-role or federated-user ARN"
MAX_EC_PAIRS = 8  # R4.5
MAX_EC_VALUE = 384
# key spec prefix -> usages AWS allows for it (CreateKey)
SPEC_USAGES = {
    "SYMMETRIC_DEFAULT": ("ENCRYPT_DECRYPT",),
    "RSA_": ("ENCRYPT_DECRYPT", "SIGN_VERIFY"),
    "ECC_NIST_": ("SIGN_VERIFY", "KEY_AGREEMENT"),
    "ECC_SECG_": ("SIGN_VERIFY",),
    "ECC_NIST_EDWARDS": ("SIGN_VERIFY",),
    "HMAC_": ("GENERATE_VERIFY_MAC",),
    "SM2": ("ENCRYPT_DECRYPT", "SIGN_VERIFY", "KEY_AGREEMENT"),
    "ML_DSA_": ("SIGN_VERIFY",),
    "ML_KEM_": ("ENCAPSULATE_DECAPSULATE",),
}


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
    problem = caller_arn_problem(value, GRANT_PRINCIPAL_FORMS)
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


# -- key policies against the key's account ----------------------------------


def _cross_account_problems(key: Key, policy: Policy) -> list[Diagnostic]:
    """KP Allow naming another account's principal with actions that are not X (R3.2)."""
    out: list[Diagnostic] = []
    for st in policy.statements:
        if st.effect is not Effect.ALLOW or not st.action:
            continue
        inert = []
        for a in st.action:
            matches = expand(a) if a.lower().startswith("kms:") else ()
            infos = [action_info(m) for m in matches]
            if matches and not any(i is not None and i.cross_account for i in infos):
                inert.append(a)
        if not inert:
            continue
        for p in st.principal or ():
            if p.kind != "AWS" or p.is_wildcard or caller_arn_problem(p.value):
                continue
            acct = parse_caller(p.value).account
            if acct and acct != key.account:
                out.extend(
                    warning(
                        p.pos,
                        f"`{a}` does not work across accounts: inert for `{p.value}` "
                        f"(key account {key.account})",
                    )
                    for a in inert
                )
    return out


# -- keys, identities, buckets ------------------------------------------------


def _key_problems(key: Key) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    if key.key_usage not in key_usages():
        hint = suggest(key.key_usage, key_usages())
        out.append(warning(key.pos, f"unknown key usage `{key.key_usage}`" + hint))
    else:
        for prefix in sorted(SPEC_USAGES, key=len, reverse=True):
            if key.key_spec.startswith(prefix):
                if key.key_usage not in SPEC_USAGES[prefix]:
                    out.append(
                        warning(
                            key.pos,
                            f"key spec `{key.key_spec}` cannot have key usage `{key.key_usage}`",
                        )
                    )
                break
    is_mrk = key.key_id.startswith("mrk-")
    if is_mrk != key.multi_region:
        state = "true" if key.multi_region else "false"
        out.append(
            warning(
                key.pos,
                f"key id `{key.key_id}` and `multi_region` {state} disagree: "
                "multi-Region key ids start with `mrk-`",
            )
        )
    if key.manager == "AWS":
        if key.multi_region:
            out.append(
                warning(key.pos, "an AWS managed key is single-Region, but `multi_region` is true")
            )
        out.extend(
            warning(
                key.pos, f"alias `{alias}` of an AWS managed key does not start with `alias/aws/`"
            )
            for alias in key.aliases
            if not alias.startswith("alias/aws/")
        )
    return out


def _bucket_problems(world: World) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for b in world.buckets:
        if b.kms_key is None:
            continue
        parts = key_arn_parts(b.kms_key)
        if parts is None:
            out.append(
                warning(
                    b.pos,
                    f"bucket default key `{b.kms_key}` is not a key ARN: "
                    "kmsprove treats the key as unknown",
                )
            )
            continue
        if parts[0] != b.region:
            out.append(
                warning(
                    b.pos,
                    f"bucket `{b.name}` is in {b.region} but its default key is in {parts[0]}: "
                    "S3 cannot use it",
                )
            )
        key = world.find_key(b.kms_key)
        if key is not None and not key.is_symmetric_encryption:
            out.append(
                warning(
                    b.pos,
                    f"bucket default key `{b.kms_key}` is not a symmetric encryption key: "
                    "S3 cannot use it",
                )
            )
    return out


def check_world(world: World) -> list[Diagnostic]:
    """Problems that only show across documents; policies are checked when loaded."""
    out: list[Diagnostic] = []
    for key in world.keys:
        out.extend(_key_problems(key))
        for g in key.grants:
            out.extend(_grant_problems(g))
            out.extend(_grant_fit(key, g))
        for policy in key.policies:
            out.extend(_cross_account_problems(key, policy))
    for acct in world.accounts.values():
        for ident in acct.principals.values():
            out.extend(
                warning(
                    ident.pos,
                    f"`{doc}` is attached to `{ident.arn}` but its document was not supplied: "
                    "answers that depend on it are incomplete",
                )
                for doc in ident.unknown_documents
            )
    out.extend(_bucket_problems(world))
    return printable(out)

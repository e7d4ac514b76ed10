"""AST/world stage, validation: what only shows across documents.

`World` -> `Diagnostic`s for grants against their key (`kmsprove.validate.grants`),
key policies against the key's account (R3.2), identities with missing documents or
a shared unique id, buckets' default keys (R8.3, R8.4) and key properties. Policies
themselves are checked by `check_policy` when loaded.
"""

from __future__ import annotations

from kmsprove.arn import key_arn_parts, parse_caller
from kmsprove.ast import Effect, Policy
from kmsprove.catalog import action_info, expand
from kmsprove.errors import Diagnostic, error, printable, suggest, warning
from kmsprove.validate.grants import grant_problems, key_usages
from kmsprove.validate.principals import caller_arn_problem
from kmsprove.world import Key, World

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


def _duplicate_unique_ids(world: World) -> list[Diagnostic]:
    seen: dict[str, str] = {}
    out: list[Diagnostic] = []
    for acct in world.accounts.values():
        for ident in acct.principals.values():
            uid = ident.unique_id
            if uid is None:
                continue
            if uid in seen:
                out.append(error(ident.pos, f"unique id `{uid}` is given to `{seen[uid]}` too"))
            seen.setdefault(uid, ident.arn)
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
        out.extend(grant_problems(key))
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
    out.extend(_duplicate_unique_ids(world))
    return printable(out)

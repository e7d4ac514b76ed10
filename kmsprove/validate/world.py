"""AST/world stage, validation: what only shows across documents.

`World` -> `Diagnostic`s for grants against their key (`kmsprove.validate.grants`),
key policies against the key's account (R3.2), identities with missing documents or
a shared unique id, buckets' default keys (R8.3, R8.4) and key properties. Policies
themselves are checked by `check_policy` when loaded.

INVARIANT: every document a world gives takes part in some decision, or a warning at
its position says why not (`_unused_documents`, `root_principal_problems`): an SCP
of the management account, an RCP with no key to bind, a bucket policy without a
key, a root user's identity documents...
"""

from __future__ import annotations

from kmsprove.arn import key_arn_parts, parse_caller
from kmsprove.ast import Effect, Policy
from kmsprove.catalog import action_info, expand
from kmsprove.errors import Diagnostic, error, printable, suggest, warning
from kmsprove.syntax.tree import JObject
from kmsprove.validate.grants import grant_problems, key_usages
from kmsprove.validate.principals import caller_arn_problem
from kmsprove.world import Account, Key, World

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
            out.append(
                warning(
                    b.pos,
                    f"bucket `{b.name}` has no `kms_key` (its default encryption key): kmsprove "
                    "decides SSE-KMS reads only, so the key is unknown and the bucket's policy "
                    "takes part in no decision (R8.3)",
                )
            )
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
        if key is None:
            out.append(
                warning(
                    b.pos,
                    f"bucket default key `{b.kms_key}` is not among the world's keys: reads of "
                    f"`{b.name}` are not decided, and its policy takes part in no decision",
                )
            )
        elif not key.is_symmetric_encryption:
            out.append(
                warning(
                    b.pos,
                    f"bucket default key `{b.kms_key}` is not a symmetric encryption key: "
                    "S3 cannot use it",
                )
            )
    return out


# -- documents that take part in no decision ---------------------------------------


def _unused_documents(world: World) -> list[Diagnostic]:
    """Warnings for documents no decision reads, each at the document (INVARIANT above)."""
    out: list[Diagnostic] = []
    for acct in world.accounts.values():
        out.extend(_account_documents(world, acct))
    out.extend(
        warning(
            policy.pos,
            f"the policy of VPC endpoint `{vid}` applies only to requests made through it: "
            "`explain --via-vpce` and `diff` decide those; `query` and `check` ask about "
            "requests from anywhere, which it cannot restrict",
        )
        for vid, policy in world.vpc_endpoints.items()
    )
    out.extend(
        warning(
            key.pos,
            f"`multi_region_key_type` `{key.multi_region_key_type}` takes part in no "
            "decision: the key is not multi-Region (`multi_region` is false)",
        )
        for key in world.keys
        if key.multi_region_key_type is not None and not key.multi_region
    )
    return out


def _account_documents(world: World, acct: Account) -> list[Diagnostic]:
    """SCPs and RCPs that bind nobody (R1.10), and SCPs whose organization is unknown."""
    out: list[Diagnostic] = []
    if acct.management:
        # AWS Organizations: "SCPs don't affect users or roles in the management account",
        # and RCPs do not affect its resources
        out.extend(
            warning(
                p.pos,
                f"this SCP never applies: account {acct.id} is its organization's management "
                "account, and SCPs do not affect users or roles in the management account",
            )
            for p in acct.scps
        )
        out.extend(
            warning(
                p.pos,
                f"this RCP never applies: account {acct.id} is its organization's management "
                "account, and RCPs do not affect resources in the management account",
            )
            for p in acct.rcps
        )
        return out
    if acct.scps and acct.organization is None:
        out.append(
            warning(
                acct.scps[0].pos,
                f"account {acct.id} has SCPs but no `organization`: kmsprove applies them, but "
                "its organization id is unknown, so in questions `aws:PrincipalOrgID` of its "
                "principals may be any organization's id or absent, and in `explain` it is "
                "absent unless the request gives it",
            )
        )
    bound = [k for k in world.keys if k.account == acct.id and k.manager == "CUSTOMER"]
    if not bound:
        out.extend(
            warning(
                p.pos,
                f"this RCP binds account {acct.id}'s resources, and the world holds no customer "
                f"managed key of {acct.id}: it takes part in no decision (R1.10)",
            )
            for p in acct.rcps
        )
    return out


ROOT_FIELD_WHY = {
    "policies": "the root user carries no identity policies (R1.4)",
    "boundary": "permissions boundaries apply to IAM users and roles, not to the root user",
    "tags": "the root user carries no principal tags",
    "trust_policy": "the root user is not a role: it has no trust policy",
    "groups": "the root user belongs to no IAM group",
    "unique_id": "the root user has no unique id a grant could name",
}


def root_principal_problems(arn: str, node: JObject) -> list[Diagnostic]:
    """A world file's entry for an account's root user: a warning for each field, which
    takes part in no decision (the root user is in every account; R1.4)."""
    if not node.members:
        return [
            warning(
                node.pos,
                f"`{arn}` needs no entry: every account has its root user, and the root user "
                "carries no identity documents (R1.4)",
            )
        ]
    return [
        warning(
            m.value.pos,
            f"`{m.key}` of `{arn}` takes part in no decision: {ROOT_FIELD_WHY[m.key]}",
        )
        for m in node.members
        if m.key in ROOT_FIELD_WHY
    ]


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
    out.extend(_unused_documents(world))
    return printable(out)

"""The audit's rules, as data: one table of `Rule`s, in the order reports list them.

Each rule is a question (or a few) in the query language of DESIGN.md, asked of every
key through the same solve-and-recheck path as `kmsprove query`. `check` names how its
answers become findings (`kmsprove.questions.audit.runners.RUNNERS`): `yes` a finding
per witness; `inzone` the same over the zone's own principals, administrators left out
(`zone.py`); `deputy` one finding per service principal; `admins` one question per key
administrator; `lockout`, `inert` and `s3-managed` a finding per proof that something
never works; `s3-alias` a bucket that names its key by alias (its composed read is then
unknown); `escalation` a finding per `ever` trace (asked with --trust only).

Placeholders in `asks`: {outside} `outside account A,B` or `outside org O` (the zone of
trust), {inside} `in account A,B` (the zone's accounts), {zone_accounts} `A,B`,
{mentioned} every account the world mentions, {principal} one principal, {who} a
principal or an account's principals, {actions} actions found in a statement, {bucket}
a bucket ARN, {bucket_account} its account, {on_key} `on key ARN`.
"""

from __future__ import annotations

from kmsprove.questions.audit.rules import Rule, Severity

# the Sids by which a key policy names the key's administrators: the console's default
# policy, and the CloudFormation User Guide's key examples
ADMINISTRATOR_SIDS = ("Allow access for Key Administrators", "Allow administration of the key")

RULES: tuple[Rule, ...] = (
    Rule(
        id="public",
        severity=Severity.CRITICAL,
        title="any AWS account can use the key",
        description='A principal of an account the world never mentions, in no organization, can use the key: every signed request of every AWS account can, as `Principal: "*"` without a narrowing condition allows (seed 004).',
        help_uri="https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html",
        fix="Narrow the statement that lets the request in: name the principals, or add a condition on kms:CallerAccount, aws:PrincipalOrgID or aws:PrincipalArn (kms:ViaService alone leaves every account's principals in through that service).",
        check="yes",
        asks=(
            "can any iam principal outside account {mentioned} kms:Decrypt, kms:ReEncryptFrom, kms:ReEncryptTo, kms:Encrypt, kms:GenerateDataKey*, kms:Sign, kms:Verify, kms:GenerateMac, kms:VerifyMac, kms:DeriveSharedSecret, kms:Encapsulate, kms:Decapsulate, kms:GetPublicKey, kms:DescribeKey, kms:CreateGrant {on_key} where not has aws:PrincipalOrgID",
        ),
    ),
    Rule(
        id="external-decrypt",
        severity=Severity.HIGH,
        title="principals outside the zone of trust can decrypt or re-encrypt",
        description="An IAM principal outside the zone of trust (the key's account; its organization with --zone org; the accounts --zone names) can decrypt, re-encrypt, decapsulate or derive a shared secret with the key.",
        help_uri="https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html",
        fix="Remove the other account from the statement that lets the request in, or narrow it (kms:ViaService with kms:CallerAccount, an encryption-context condition); a partner that should decrypt belongs in the zone: --zone ACCOUNT,PARTNER.",
        check="yes",
        asks=(
            "can any iam principal {outside} kms:Decrypt, kms:ReEncryptFrom, kms:ReEncryptTo, kms:Decapsulate, kms:DeriveSharedSecret {on_key}",
        ),
    ),
    Rule(
        id="external-encrypt",
        severity=Severity.MEDIUM,
        title="principals outside the zone of trust can encrypt or generate data keys",
        description="An IAM principal outside the zone of trust can encrypt under the key or generate data keys with it (data that looks like the key owner's, and KMS costs billed to the owner).",
        help_uri="https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html",
        fix="Remove the other account from the statement that lets the request in, or narrow it with conditions; a partner that should encrypt belongs in the zone: --zone ACCOUNT,PARTNER.",
        check="yes",
        asks=(
            "can any iam principal {outside} kms:Encrypt, kms:GenerateDataKey*, kms:Encapsulate {on_key}",
        ),
    ),
    Rule(
        id="external-sign",
        severity=Severity.HIGH,
        title="principals outside the zone of trust can sign, verify or compute MACs",
        description="An IAM principal outside the zone of trust can sign or verify messages, or generate or verify MACs, with the key: signatures and MACs others will take for the key owner's.",
        help_uri="https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html",
        fix="Remove the other account from the statement that lets the request in; to let others verify, publish the public key (GetPublicKey) instead of allowing Verify.",
        check="yes",
        asks=(
            "can any iam principal {outside} kms:Sign, kms:Verify, kms:GenerateMac, kms:VerifyMac {on_key}",
        ),
    ),
    Rule(
        id="external-grants",
        severity=Severity.HIGH,
        title="principals outside the zone of trust can create or revoke grants directly",
        description="An IAM principal outside the zone of trust can create grants on the key (and so hand its operations to anyone) or revoke the grants others rely on, by calling KMS itself: not through an AWS service (a call without kms:ViaService, for which kms:GrantIsForAWSResource is never true).",
        help_uri="https://docs.aws.amazon.com/kms/latest/developerguide/grant-authorization.html",
        fix='Allow CreateGrant to other accounts only with `"Bool": {"kms:GrantIsForAWSResource": "true"}` (grants AWS services create for the caller\'s resources), or not at all.',
        check="yes",
        asks=(
            "can any iam principal {outside} kms:CreateGrant, kms:RevokeGrant {on_key} where not has kms:ViaService",
        ),
    ),
    Rule(
        id="external-admin",
        severity=Severity.HIGH,
        title="principals outside the zone of trust can administer the key",
        description="An IAM principal outside the zone of trust can change the key's policy, state, rotation, tags or material. KMS runs none of these across accounts (R3.2), so this is normally proved impossible; a finding means it is not.",
        help_uri="https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html",
        fix="Remove the statement that lets the request in.",
        check="yes",
        asks=(
            "can any iam principal {outside} kms:PutKeyPolicy, kms:ScheduleKeyDeletion, kms:CancelKeyDeletion, kms:DisableKey, kms:EnableKey, kms:DisableKeyRotation, kms:EnableKeyRotation, kms:RotateKeyOnDemand, kms:TagResource, kms:UntagResource, kms:UpdateKeyDescription, kms:ImportKeyMaterial, kms:DeleteImportedKeyMaterial, kms:ReplicateKey, kms:UpdatePrimaryRegion {on_key}",
        ),
    ),
    Rule(
        id="confused-deputy",
        severity=Severity.HIGH,
        title="an AWS service can use the key for any account's resources",
        description="A service principal can use the key while no aws:SourceAccount or aws:SourceArn condition ties the request to a resource of the zone of trust: the service may be made to use the key for another account's resources (the confused deputy).",
        help_uri="https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html",
        fix='Add `"StringEquals": {"aws:SourceAccount": "ACCOUNT"}` and/or `"ArnLike": {"aws:SourceArn": "arn:aws:SERVICE:REGION:ACCOUNT:RESOURCE"}` to the statement that names the service.',
        check="deputy",
        asks=(
            'can any principal outside account {zone_accounts} kms:Decrypt, kms:ReEncryptFrom, kms:ReEncryptTo, kms:Encrypt, kms:GenerateDataKey*, kms:Sign, kms:Verify, kms:GenerateMac, kms:VerifyMac, kms:DeriveSharedSecret, kms:GetPublicKey, kms:DescribeKey, kms:CreateGrant {on_key} where aws:PrincipalIsAWSService == "true"',
        ),
    ),
    Rule(
        id="grant-not-for-aws-resource",
        severity=Severity.MEDIUM,
        title="a principal who is no key administrator can create grants for anything",
        description="A principal of the zone of trust who is not a key administrator can call CreateGrant itself, not through an AWS service (no kms:ViaService, so kms:GrantIsForAWSResource is not true): it can hand any grant operation to any principal, itself included, not only to the AWS services that act for it (seeds 002, 004).",
        help_uri="https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-grant-is-for-aws-resource",
        fix='Add `"Bool": {"kms:GrantIsForAWSResource": "true"}` to the statement that allows CreateGrant (as the console\'s "Allow attachment of persistent resources" does), or restrict kms:GrantOperations and kms:GranteePrincipal.',
        check="inzone",
        asks=("can any principal {inside} kms:CreateGrant {on_key} where not has kms:ViaService",),
    ),
    Rule(
        id="least-privilege",
        severity=Severity.MEDIUM,
        title="a principal who is no key administrator can manage the key",
        description="A principal of the zone of trust who is not a key administrator can call administrative operations (enable, rotation, tags, description, import, replication), as `kms:*` given to a key user allows (seed 003).",
        help_uri="https://docs.aws.amazon.com/kms/latest/developerguide/least-privilege.html",
        fix='Give key users only the cryptographic operations they need; give administrative operations only to the key administrators (the statement with Sid "Allow access for Key Administrators", or --admin).',
        check="inzone",
        asks=(
            "can any principal {inside} kms:EnableKey, kms:CancelKeyDeletion, kms:DisableKeyRotation, kms:EnableKeyRotation, kms:RotateKeyOnDemand, kms:TagResource, kms:UntagResource, kms:UpdateKeyDescription, kms:ImportKeyMaterial, kms:ReplicateKey, kms:UpdatePrimaryRegion {on_key}",
        ),
    ),
    Rule(
        id="delete-or-disable",
        severity=Severity.HIGH,
        title="a principal who is no key administrator can delete, disable or re-police the key",
        description="A principal of the zone of trust who is not a key administrator can schedule the key's deletion, disable it, delete its imported material or replace its key policy: everything encrypted under it can be lost or locked.",
        help_uri="https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html",
        fix="Allow kms:ScheduleKeyDeletion, kms:DisableKey, kms:DeleteImportedKeyMaterial and kms:PutKeyPolicy only to the key administrators.",
        check="inzone",
        asks=(
            "can any principal {inside} kms:ScheduleKeyDeletion, kms:DisableKey, kms:DeleteImportedKeyMaterial, kms:PutKeyPolicy {on_key}",
        ),
    ),
    Rule(
        id="admin-can-decrypt",
        severity=Severity.MEDIUM,
        title="a key administrator can also decrypt",
        description='A key administrator (named by the key policy\'s "Allow access for Key Administrators" statement, or by --admin) can also decrypt with the key: administration and use are not separated.',
        help_uri="https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-administrators",
        fix="Take the cryptographic operations out of the administrators' statements (and their identity policies); give them to key users instead.",
        check="admins",
        asks=(
            "can principal {principal} kms:Decrypt, kms:ReEncryptFrom, kms:Decapsulate, kms:DeriveSharedSecret {on_key}",
        ),
    ),
    Rule(
        id="lockout",
        severity=Severity.HIGH,
        title="no principal can ever change the key policy",
        description="Proved: no principal can ever call PutKeyPolicy on the key, today or after any steps (no account root delegation, no administrator): the key can no longer be managed, and only AWS Support may recover it.",
        help_uri="https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam",
        fix="Keep the statement that allows the key's account (`arn:aws:iam::ACCOUNT:root`) kms:*, or one that names a key administrator with kms:PutKeyPolicy; if the key is already locked, ask AWS Support.",
        check="lockout",
        asks=("can anyone ever kms:PutKeyPolicy {on_key}",),
    ),
    Rule(
        id="inert-cross-account",
        severity=Severity.LOW,
        title="another account is given operations that never work across accounts",
        description="Proved: a statement gives principals of another account operations KMS never runs across accounts (R3.2, seed 000), so it never allows them anything: the permission misleads readers of the policy.",
        help_uri="https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html",
        fix="Remove these operations from the statement (only the cryptographic operations, DescribeKey, GetPublicKey, CreateGrant, ListGrants, RevokeGrant, RetireGrant and GetKeyRotationStatus work across accounts).",
        check="inert",
        asks=("can {who} {actions} {on_key}",),
    ),
    Rule(
        id="s3-alias-default-key",
        severity=Severity.MEDIUM,
        title="a bucket's default encryption names its key by alias",
        description="A bucket's default encryption names the KMS key by alias or key id: which key an object gets depends on the account that writes it, so other accounts' objects may land under a key of their own and reads across accounts fail (seed 001, R8.3).",
        help_uri="https://repost.aws/knowledge-center/cross-account-access-denied-error-s3",
        fix="Give the bucket's default encryption the full key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), not `alias/NAME`.",
        check="s3-alias",
        asks=(
            "can any iam principal outside account {bucket_account} s3:GetObject on bucket {bucket}",
        ),
    ),
    Rule(
        id="s3-managed-key-shared-bucket",
        severity=Severity.MEDIUM,
        title="a bucket shared with other accounts is encrypted under an AWS managed key",
        description="Proved: the bucket policy lets other accounts read, but the bucket's objects are encrypted under an AWS managed key (aws/s3), whose policy no other account can use (R7.5, R8.5): every read from another account fails.",
        help_uri="https://repost.aws/knowledge-center/cross-account-access-denied-error-s3",
        fix="Encrypt the bucket with a customer managed key whose policy lets the readers' accounts decrypt (and their IAM policies allow kms:Decrypt), or stop sharing the bucket.",
        check="s3-managed",
        asks=(
            "can any iam principal outside account {bucket_account} s3:GetObject on bucket {bucket}",
        ),
    ),
    Rule(
        id="escalation",
        severity=Severity.HIGH,
        title="an untrusted principal can eventually decrypt from outside the zone of trust",
        description="Not today, but after steps untrusted principals can take (IAM writes, assuming roles, rewriting the key policy, creating grants), a principal outside the zone of trust can decrypt with the key; the trace shows the steps. Asked only with --trust, which names the principals trusted to take no steps.",
        help_uri="https://docs.aws.amazon.com/kms/latest/developerguide/control-access.html",
        fix="Take away the permission of the trace's first step (kms:PutKeyPolicy, kms:CreateGrant, iam:Put*Policy, sts:AssumeRole...) from the principal that takes it, or trust it with --trust if it is a key administrator.",
        check="escalation",
        asks=("can any iam principal {outside} ever kms:Decrypt, kms:ReEncryptFrom {on_key}",),
    ),
)


def rule(rule_id: str) -> Rule:
    return next(r for r in RULES if r.id == rule_id)


def rule_ids() -> tuple[str, ...]:
    return tuple(r.id for r in RULES)

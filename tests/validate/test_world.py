"""check_world: grants against their key, key policies across accounts, buckets, identities."""

from __future__ import annotations

import types
from dataclasses import replace

import pytest

from kmsprove.ast import Grant
from kmsprove.errors import SourcePos
from kmsprove.validate import check_world
from kmsprove.world import Account, Bucket, Identity, Key, World
from tests.support.builders import built, key_stmt

KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:us-east-1:111122223333:key/{KEY_ID}"
KEY_POS = SourcePos("w.json", 4, 5)
GRANT_POS = SourcePos("w.json", 9, 9)
BUCKET_POS = SourcePos("w.json", 20, 5)
EXTERNAL = "arn:aws:iam::444455556666:root"


def kp(*statements: dict[str, object]) -> object:
    return built({"Version": "2012-10-17", "Statement": list(statements) or [key_stmt()]})


def key(**fields: object) -> Key:
    base = Key(arn=KEY_ARN, policy=kp(), pos=KEY_POS)  # type: ignore[arg-type]
    return replace(base, **fields)  # type: ignore[arg-type]


def grant(*ops: str, **fields: object) -> Grant:
    g = Grant(
        grant_id="g1",
        key_id=KEY_ARN,
        operations=ops or ("Decrypt",),
        grantee="arn:aws:iam::111122223333:role/app",
        pos=GRANT_POS,
    )
    return replace(g, **fields)  # type: ignore[arg-type]


def found(world: World) -> set[str]:
    return {f"{d.pos.line}: {d.severity.value}: {d.message}" for d in check_world(world)}


def test_a_plain_world_has_no_problems() -> None:
    assert found(World(keys=(key(grants=(grant(), grant(key_id=KEY_ID))),))) == set()


def test_grants_are_checked() -> None:
    w = World(keys=(key(grants=(grant("Decrpyt"),)),))
    assert found(w) == {"9: error: `Decrpyt` is not a grant operation (did you mean `Decrypt`?)"}


def test_grant_for_another_key() -> None:
    other = "arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab"
    w = World(keys=(key(grants=(grant(key_id=other),)),))
    assert found(w) == {f"9: error: grant `g1` is for key `{other}`, not this key `{KEY_ARN}`"}


@pytest.mark.parametrize(
    ("spec", "usage", "fit", "unfit"),
    [
        (
            "SYMMETRIC_DEFAULT",
            "ENCRYPT_DECRYPT",
            ["Decrypt", "GenerateDataKey", "ReEncryptFrom"],
            ["Sign", "GetPublicKey", "GenerateMac"],
        ),
        ("RSA_2048", "ENCRYPT_DECRYPT", ["Decrypt", "GetPublicKey"], ["GenerateDataKey", "Sign"]),
        ("RSA_2048", "SIGN_VERIFY", ["Sign", "Verify", "GetPublicKey"], ["Decrypt"]),
        (
            "HMAC_256",
            "GENERATE_VERIFY_MAC",
            ["GenerateMac", "VerifyMac"],
            ["Decrypt", "GetPublicKey"],
        ),
        ("ECC_NIST_P256", "KEY_AGREEMENT", ["DeriveSharedSecret", "GetPublicKey"], ["Sign"]),
        ("ML_KEM_768", "ENCAPSULATE_DECAPSULATE", ["Encapsulate", "Decapsulate"], ["Decrypt"]),
    ],
)
def test_grant_operations_fit_the_key_type(
    spec: str, usage: str, fit: list[str], unfit: list[str]
) -> None:
    always = ["DescribeKey", "CreateGrant", "RetireGrant"]
    k = key(key_spec=spec, key_usage=usage)
    assert found(World(keys=(replace(k, grants=(grant(*fit, *always),)),))) == set()
    w = World(keys=(replace(k, grants=(grant(*unfit),)),))
    assert found(w) == {
        f"9: error: grant operation `{op}` does not fit key `{KEY_ARN}` ({spec}, {usage}): "
        "KMS rejects such grants"
        for op in unfit
    }


def test_encryption_context_constraints_on_asymmetric_keys() -> None:
    k = key(
        key_spec="RSA_2048",
        key_usage="SIGN_VERIFY",
        grants=(grant("Sign", ec_subset=(("a", "b"),)),),
    )
    assert found(World(keys=(k,))) == {
        f"9: warning: grant `g1` has an encryption context constraint, but key `{KEY_ARN}` is not a "
        "symmetric encryption key: KMS does not apply it"
    }


def test_non_cross_account_actions_for_external_principals() -> None:
    statements = (
        key_stmt(),
        key_stmt(
            Principal={"AWS": [EXTERNAL, "arn:aws:iam::111122223333:role/own"]},
            Action=["kms:Decrypt", "kms:PutKeyPolicy", "kms:Enable*", "kms:*"],
        ),
        key_stmt(Principal={"AWS": EXTERNAL}, Action="kms:ScheduleKeyDeletion", Effect="Deny"),
        key_stmt(
            Principal={"AWS": "arn:aws:sts::444455556666:assumed-role/r/s"}, Action="kms:DisableKey"
        ),
    )
    w = World(keys=(key(policy=kp(*statements)),))
    found_ = {(d.pos.col, d.message) for d in check_world(w)}
    messages = {m for _, m in found_}
    assert messages == {
        f"`kms:PutKeyPolicy` does not work across accounts: inert for `{EXTERNAL}` (key account 111122223333)",
        f"`kms:Enable*` does not work across accounts: inert for `{EXTERNAL}` (key account 111122223333)",
        "`kms:DisableKey` does not work across accounts: inert for "
        "`arn:aws:sts::444455556666:assumed-role/r/s` (key account 111122223333)",
    }
    # positioned at the external principal
    assert all(d.severity.value == "warning" and d.pos.file == "p.json" for d in check_world(w))


def test_ram_policy_is_checked_too() -> None:
    ram = kp(key_stmt(Principal={"AWS": EXTERNAL}, Action="kms:TagResource"))
    w = World(keys=(key(ram_policy=ram),))
    assert found(w) == {
        f"1: warning: `kms:TagResource` does not work across accounts: inert for `{EXTERNAL}` "
        "(key account 111122223333)"
    }


def test_key_properties() -> None:
    assert found(World(keys=(key(key_usage="ENCRYPT"),))) == {
        "4: warning: unknown key usage `ENCRYPT` (did you mean `ENCRYPT_DECRYPT`?)"
    }
    assert found(World(keys=(key(key_spec="SYMMETRIC_DEFAULT", key_usage="SIGN_VERIFY"),))) == {
        "4: warning: key spec `SYMMETRIC_DEFAULT` cannot have key usage `SIGN_VERIFY`"
    }
    assert found(World(keys=(key(key_spec="ECC_SECG_P256K1", key_usage="SIGN_VERIFY"),))) == set()
    assert found(World(keys=(key(multi_region=True),))) == {
        f"4: warning: key id `{KEY_ID}` and `multi_region` true disagree: multi-Region key ids start with `mrk-`"
    }
    mrk = "arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab"
    assert found(World(keys=(key(arn=mrk),))) == {
        "4: warning: key id `mrk-1234abcd12ab34cd56ef1234567890ab` and `multi_region` false disagree: "
        "multi-Region key ids start with `mrk-`"
    }
    assert found(World(keys=(key(arn=mrk, multi_region=True),))) == set()


def test_aws_managed_keys() -> None:
    good = key(manager="AWS", aliases=("alias/aws/s3",))
    assert found(World(keys=(good,))) == set()
    mrk = "arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab"
    bad = key(manager="AWS", arn=mrk, multi_region=True, aliases=("alias/app",))
    assert found(World(keys=(bad,))) == {
        "4: warning: an AWS managed key is single-Region, but `multi_region` is true",
        "4: warning: alias `alias/app` of an AWS managed key does not start with `alias/aws/`",
    }


def test_buckets_default_keys() -> None:
    def bucket(kms_key: str | None, region: str = "us-east-1") -> Bucket:
        return Bucket(
            "arn:aws:s3:::shared", "111122223333", region, kms_key=kms_key, pos=BUCKET_POS
        )

    k = key()
    assert found(World(keys=(k,), buckets=(bucket(KEY_ARN),))) == set()
    # a bucket without its default key: nothing kmsprove decides reads its policy
    assert found(World(keys=(k,), buckets=(bucket(None),))) == {
        "20: warning: bucket `shared` has no `kms_key` (its default encryption key): kmsprove "
        "decides SSE-KMS reads only, so the key is unknown and the bucket's policy takes part "
        "in no decision (R8.3)"
    }
    other = "arn:aws:kms:us-east-1:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321"
    assert found(World(keys=(k,), buckets=(bucket(other),))) == {
        f"20: warning: bucket default key `{other}` is not among the world's keys: reads of "
        "`shared` are not decided, and its policy takes part in no decision"
    }
    assert found(World(keys=(k,), buckets=(bucket("alias/app"),))) == {
        "20: warning: bucket default key `alias/app` is not a key ARN: kmsprove treats the key as unknown"
    }
    assert found(World(keys=(k,), buckets=(bucket(KEY_ARN, "us-west-2"),))) == {
        "20: warning: bucket `shared` is in us-west-2 but its default key is in us-east-1: S3 cannot use it"
    }
    asym = key(key_spec="RSA_2048")
    assert found(World(keys=(asym,), buckets=(bucket(KEY_ARN),))) == {
        f"20: warning: bucket default key `{KEY_ARN}` is not a symmetric encryption key: S3 cannot use it"
    }


def test_identities_with_missing_documents() -> None:
    ident = Identity(
        "arn:aws:iam::111122223333:role/app",
        unknown_documents=("arn:aws:iam::aws:policy/ReadOnlyAccess", "group Admins"),
        pos=SourcePos("w.json", 30, 7),
    )
    acct = Account("111122223333", principals=types.MappingProxyType({ident.arn: ident}))
    w = World(accounts=types.MappingProxyType({"111122223333": acct}))
    assert found(w) == {
        "30: warning: `arn:aws:iam::aws:policy/ReadOnlyAccess` is attached to "
        "`arn:aws:iam::111122223333:role/app` but its document was not supplied: answers that "
        "depend on it are incomplete",
        "30: warning: `group Admins` is attached to `arn:aws:iam::111122223333:role/app` but its "
        "document was not supplied: answers that depend on it are incomplete",
    }


def test_check_world_does_not_recheck_policies() -> None:
    # the loader checks each policy once when it loads it (check_policy)
    w = World(keys=(key(policy=kp(key_stmt(Action="kms:Nope"))),))
    assert found(w) == set()

"""check_grant: one grant on its own (R4.1, R4.3, R4.5)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kmsprove.ast import Grant
from kmsprove.errors import SourcePos
from kmsprove.validate import check_grant

KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
POS = SourcePos("grants.json", 3, 5)
GOOD = Grant(
    grant_id="g1",
    key_id=KEY_ARN,
    operations=("Decrypt", "Encrypt"),
    grantee="arn:aws:iam::111122223333:role/app",
    retiring="arn:aws:iam::111122223333:root",
    issuing_account="111122223333",
    pos=POS,
)


def found(g: Grant) -> set[str]:
    diags = check_grant(g)
    assert all(d.pos == POS for d in diags)
    return {f"{d.severity.value}: {d.message}" for d in diags}


def test_a_good_grant_has_no_problems() -> None:
    assert found(GOOD) == set()
    service = replace(
        GOOD,
        grantee=None,
        grantee_service="cloudtrail.amazonaws.com",
        retiring=None,
        retiring_service="cloudtrail.amazonaws.com",
        source_arn="arn:aws:cloudtrail:us-east-1:111122223333:trail/t",
    )
    assert found(service) == set()


@pytest.mark.parametrize(
    "key_id",
    [
        "1234abcd-12ab-34cd-56ef-1234567890ab",
        "mrk-1234abcd12ab34cd56ef1234567890ab",
        "arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab",
    ],
)
def test_key_ids(key_id: str) -> None:
    assert found(replace(GOOD, key_id=key_id)) == set()


def test_bad_key_ids() -> None:
    assert found(replace(GOOD, key_id="")) == {
        "warning: grant has no `KeyId`: which key it is for is unknown"
    }
    assert found(replace(GOOD, key_id="alias/app")) == {
        "error: grant `KeyId` `alias/app` is an alias: grants are bound to a key"
    }
    alias_arn = "arn:aws:kms:us-east-1:111122223333:alias/app"
    assert found(replace(GOOD, key_id=alias_arn)) == {
        f"error: grant `KeyId` `{alias_arn}` is an alias: grants are bound to a key"
    }
    for bad in ("1234", "arn:aws:s3:::b", "arn:aws:kms:us-east-1:111122223333:key/a_b"):
        assert found(replace(GOOD, key_id=bad)) == {
            f"error: grant `KeyId` `{bad}` is not a key ARN or key id"
        }


def test_a_documentation_sample_key_id_is_a_warning() -> None:
    """AWS CLI samples name keys `key/example-key-id` or `key/nope`: a key ARN whose id
    is no UUID still names one key, so it is a warning, not an error."""
    for sample in ("example-key-id", "nope"):
        arn = f"arn:aws:kms:us-east-1:111122223333:key/{sample}"
        assert found(replace(GOOD, key_id=arn)) == {
            f"warning: grant `KeyId` `{arn}`: `{sample}` is not a key id AWS issues "
            "(a UUID, or `mrk-` and 32 hex digits)"
        }


def test_operations() -> None:
    assert found(replace(GOOD, operations=())) == {
        "error: grant has no operations: `Operations` must list at least one"
    }
    assert found(
        replace(GOOD, operations=("Decrypt", "decrypt", "kms:Encrypt", "Decrpyt", "ListGrants"))
    ) == {
        "error: `decrypt` is not a grant operation (did you mean `Decrypt`?)",
        "error: `kms:Encrypt` is not a grant operation (did you mean `Encrypt`?)",
        "error: `Decrpyt` is not a grant operation (did you mean `Decrypt`?)",
        "error: `ListGrants` is not a grant operation",
    }


def test_one_grantee_and_one_retiring_principal() -> None:
    both = replace(
        GOOD,
        grantee_service="cloudtrail.amazonaws.com",
        retiring_service="cloudtrail.amazonaws.com",
        source_arn="arn:aws:cloudtrail:us-east-1:111122223333:trail/t",
    )
    assert found(both) == {
        "error: a grant has `GranteePrincipal` or `GranteeServicePrincipal`, not both",
        "error: a grant has `RetiringPrincipal` or `RetiringServicePrincipal`, not both",
    }


def test_service_principal_grants_need_source_arn_and_retiring_principal() -> None:
    g = replace(GOOD, grantee=None, grantee_service="cloudtrail.amazonaws.com", retiring=None)
    assert found(g) == {
        "error: a grant to a `GranteeServicePrincipal` needs a `SourceArn` constraint",
        "error: a grant to a `GranteeServicePrincipal` needs a `RetiringPrincipal` or "
        "`RetiringServicePrincipal`",
    }


def test_service_principal_as_grantee_principal_warns() -> None:
    assert found(replace(GOOD, grantee="rds.us-east-1.amazonaws.com")) == {
        "warning: grantee `rds.us-east-1.amazonaws.com` is a service principal: AWS does not say "
        "which principals such a grant covers, so kmsprove treats its grantees as unknown"
    }
    # as retiring principal a service name is fine
    assert found(replace(GOOD, retiring="rds.us-east-1.amazonaws.com")) == set()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "grantee",
            "111122223333",
            "`GranteePrincipal` `111122223333` is not a valid principal: expected an account, user, "
            "role, assumed-role or federated-user ARN, or a user's or role's unique id "
            "(`AIDA...`, `AROA...`)",
        ),
        (
            "grantee",
            "arn:aws:iam::111122223333:role/*",
            "`GranteePrincipal` `arn:aws:iam::111122223333:role/*` is not a valid principal: expected "
            "an account, user, role, assumed-role or federated-user ARN, or a user's or role's "
            "unique id (`AIDA...`, `AROA...`)",
        ),
        (
            "retiring",
            "arn:aws:iam::12:root",
            "`RetiringPrincipal` `arn:aws:iam::12:root`: account `12` is not a 12-digit account id",
        ),
        (
            "grantee",
            "logs.*.amazonaws.com",
            "wildcard in `GranteePrincipal` `logs.*.amazonaws.com`: service principals are exact names",
        ),
    ],
)
def test_malformed_principals(field: str, value: str, message: str) -> None:
    assert found(replace(GOOD, **{field: value})) == {f"error: {message}"}


def test_malformed_service_principals() -> None:
    g = replace(
        GOOD,
        grantee=None,
        grantee_service="cloudtrail",
        retiring=None,
        retiring_service="a*.amazonaws.com",
        source_arn="arn:aws:cloudtrail:us-east-1:111122223333:trail/t",
    )
    assert found(g) == {
        "error: `cloudtrail` is not a service principal name (such as `cloudtrail.amazonaws.com`)",
        "error: wildcard in `RetiringServicePrincipal` `a*.amazonaws.com`: service principals are exact names",
    }


def test_constraints() -> None:
    nine = tuple((f"k{i}", "v") for i in range(9))
    eight = nine[:8]
    assert found(replace(GOOD, ec_subset=eight)) == set()
    assert found(replace(GOOD, ec_subset=nine)) == {
        "error: `EncryptionContextSubset` has 9 pairs; a grant constraint holds at most 8"
    }
    assert found(replace(GOOD, ec_equals=(("k", "v" * 384),))) == set()
    assert found(replace(GOOD, ec_equals=(("k", "v" * 385),))) == {
        "error: `EncryptionContextEquals` value for `k` has 385 characters; at most 384 are allowed"
    }
    assert found(replace(GOOD, source_arn="trail")) == {"error: `SourceArn` `trail` is not an ARN"}


def test_issuing_account() -> None:
    assert found(replace(GOOD, issuing_account="1234")) == {
        "error: `IssuingAccount` `1234` is not an account id or `arn:aws:iam::ACCOUNT:root`"
    }

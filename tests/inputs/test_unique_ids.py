"""`kmsprove.inputs.unique_ids`: a grant naming a principal by its unique id names its
ARN once the world is loaded; an id no principal carries stays as ListGrants shows it."""

from __future__ import annotations

import types

from kmsprove.ast import Grant, Policy, PolicyKind
from kmsprove.inputs.unique_ids import resolve_unique_ids
from kmsprove.world import Account, Identity, Key, World

A = "111122223333"
KEY = f"arn:aws:kms:us-west-2:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE = f"arn:aws:iam::{A}:role/service-role/AppRole"
USER = f"arn:aws:iam::{A}:user/alice"


def world(*grants: Grant, ids: bool = True) -> World:
    principals = {
        ROLE: Identity(ROLE, unique_id="AROAAPPROLEEXAMPLE001" if ids else None),
        USER: Identity(USER, unique_id="AIDAALICEEXAMPLE00001" if ids else None),
    }
    acct = Account(A, complete=True, principals=types.MappingProxyType(principals))
    key = Key(KEY, Policy(PolicyKind.KEY_POLICY, ()), grants=grants)
    return World(keys=(key,), accounts=types.MappingProxyType({A: acct}))


def test_ids_the_world_knows_become_their_arns() -> None:
    g = Grant(
        "g1", KEY, ("Decrypt",), grantee="AROAAPPROLEEXAMPLE001", retiring="AIDAALICEEXAMPLE00001"
    )
    [out] = resolve_unique_ids(world(g)).keys[0].grants
    assert (out.grantee, out.retiring) == (ROLE, USER)
    assert out.resolved == (("AROAAPPROLEEXAMPLE001", ROLE), ("AIDAALICEEXAMPLE00001", USER))


def test_ids_nobody_carries_stay_and_arns_are_untouched() -> None:
    unknown = Grant("g1", KEY, ("Decrypt",), grantee="AROAOTHERROLEEXAMPLE1")
    by_arn = Grant("g2", KEY, ("Decrypt",), grantee=ROLE, retiring="AIDAOTHERUSEREXAMPLE")
    out = resolve_unique_ids(world(unknown, by_arn)).keys[0].grants
    assert out == (unknown, by_arn)
    assert all(g.resolved == () for g in out)
    w = world(Grant("g3", KEY, ("Decrypt",), grantee="AROAAPPROLEEXAMPLE001"), ids=False)
    assert resolve_unique_ids(w) is w  # no principal carries an id: nothing to do

"""The bulk loader builds grants from decoded values without building nodes
(`policy._plain_grant`); it must give exactly the grants the node path builds, and
fall back to the node path (with its positioned diagnostics) on anything odd."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kmsprove.errors import Diagnostic
from kmsprove.syntax.grant import build_grant
from kmsprove.syntax.json import parse_json
from kmsprove.syntax.json_bulk import parse_json_bulk
from kmsprove.syntax.tree import JArray, JObject

KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
LAZY = 70  # more elements than syntax.json.LAZY_MIN, so the bulk path builds them lazily

pairs = st.dictionaries(
    st.sampled_from(["Dept", "dept", "app"]), st.sampled_from(["IT", "x", ""]), max_size=2
)
grant = st.fixed_dictionaries(
    {
        "GrantId": st.text(min_size=1, max_size=8),
        "GranteePrincipal": st.sampled_from(
            ["arn:aws:iam::444455556666:role/r", "arn:aws:iam::111122223333:root"]
        ),
        "Operations": st.one_of(
            st.lists(
                st.sampled_from(["Decrypt", "Encrypt", "CreateGrant"]), min_size=1, max_size=3
            ),
            st.sampled_from([[], "Decrypt", [1]]),  # odd shapes: the node path reports them
        ),
    },
    optional={
        "KeyId": st.just(KEY),
        "RetiringPrincipal": st.just("arn:aws:iam::111122223333:role/admin"),
        "IssuingAccount": st.just("arn:aws:iam::111122223333:root"),
        "CreationDate": st.one_of(
            st.just("2024-01-01T00:00:00+00:00"), st.floats(0, 2e9, allow_nan=False)
        ),
        "Constraints": st.one_of(
            st.builds(lambda p: {"EncryptionContextSubset": p}, pairs),
            st.builds(lambda p: {"EncryptionContextEquals": p}, pairs),
            st.just({"SourceArn": "arn:aws:rds:us-east-1:111122223333:db:x"}),
            st.just({"Bogus": {}}),
        ),
    },
)


def _grants(root: Any) -> tuple[list[Any], list[Diagnostic]]:
    diags: list[Diagnostic] = []
    assert isinstance(root, JObject)
    items = root.get("Grants")
    assert isinstance(items, JArray)
    return [build_grant(g, diags, KEY) for g in items.items], diags


@settings(max_examples=50)
@given(st.lists(grant, min_size=LAZY, max_size=LAZY))
def test_bulk_grants_equal_node_grants(grants: list[dict[str, Any]]) -> None:
    text = json.dumps({"Grants": grants}, indent=1)
    eager, eager_diags = _grants(parse_json(text, "g.json"))
    lazy, lazy_diags = _grants(parse_json_bulk(text, "g.json"))
    assert lazy == eager
    assert [g.pos for g in lazy if g] == [g.pos for g in eager if g]
    assert sorted(map(str, lazy_diags)) == sorted(map(str, eager_diags))

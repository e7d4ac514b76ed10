"""A generated world, written as the Terraform plan that manages it, reads back as that
world: the same keys (policy, grants, aliases, state, spec), the same principals (their
identity policies however the plan attaches them: a role's `inline_policy` block,
`aws_iam_role_policy`, `aws_iam_user_policy`, an `aws_iam_policy` with its attachment,
a group's policy through its membership; boundaries, tags, trust policies), and so the
same decision for every request and the same answer to a query.

The worlds are `tests.support.strategies.worlds()` without what a plan cannot say
(organizations, SCPs, complete accounts); principals of two accounts share names, so
the plan tells them apart by the references in its configuration, as Terraform does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kmsprove.arn import parse_caller
from kmsprove.ast import Policy
from kmsprove.errors import InputError
from kmsprove.inputs import read
from kmsprove.inputs.world_file import load_world_json
from kmsprove.questions.ask import ask
from kmsprove.syntax.query import parse_query
from kmsprove.world import World
from tests.evaluate.test_evaluator_properties import _decide
from tests.support.strategies import ACCOUNTS, A, request_specs, worlds
from tests.support.terraform import change, conf, doc, encoded, plan, ref, resource

TRUST = doc(
    {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "ec2.amazonaws.com"}}
)
HOW = ("inline", "managed", "group")


def _plain(doc_: dict[str, Any]) -> dict[str, Any]:
    """The generated world without what a plan cannot say; roles get a trust policy."""
    out = json.loads(json.dumps(doc_))
    for acct in out["accounts"].values():
        for name in ("organization", "scps", "complete"):
            acct.pop(name, None)
        for arn, spec in acct["principals"].items():
            if ":role/" in arn:
                spec["trust_policy"] = TRUST
    return out


def _name(arn: str) -> str:
    c = parse_caller(arn)
    return f"{c.kind}_{c.account}_{c.name}"


def _noop(rtype: str, name: str, after: dict[str, Any]) -> dict[str, Any]:
    return change(rtype, name, after, {}, ("no-op",), before=after)


def as_plan(world: dict[str, Any], how: list[str]) -> dict[str, Any]:
    """The plan that manages `world` (already `_plain`), attaching identity policies the
    ways `how` draws."""
    key = world["keys"][0]
    key_id = key["arn"].rsplit("/", 1)[1]
    changes = [
        _noop("aws_kms_key", "k", {
            "arn": key["arn"], "key_id": key_id, "policy": encoded(key["policy"]),
            "is_enabled": key["state"] == "Enabled", "key_usage": key["key_usage"],
            "customer_master_key_spec": key["key_spec"], "multi_region": False,
        }),
        _noop("aws_kms_alias", "app", {"name": "alias/app", "target_key_id": key_id}),
    ]  # fmt: skip
    for n, g in enumerate(key["grants"]):
        constraints = [
            {"encryption_context_equals": c.get("EncryptionContextEquals"),
             "encryption_context_subset": c.get("EncryptionContextSubset")}
            for c in [g.get("Constraints")] if c
        ]  # fmt: skip
        changes.append(_noop("aws_kms_grant", f"g{n}", {
            "key_id": key["arn"], "grant_id": g["GrantId"], "grantee_principal": g["GranteePrincipal"],
            "operations": g["Operations"], "retiring_principal": g.get("RetiringPrincipal"),
            "constraints": constraints, "name": None,
        }))  # fmt: skip
    configs = []
    ways = iter(how)
    for acct, spec in world["accounts"].items():
        for arn, p in spec["principals"].items():
            c = parse_caller(arn)
            rtype = f"aws_iam_{c.kind}"
            name = _name(arn)
            after: dict[str, Any] = {
                "arn": arn,
                "name": c.name,
                "path": "/",
                "tags_all": p.get("tags", {}),
            }
            if p.get("unique_id"):
                after["unique_id"] = p["unique_id"]
            inline_blocks = []
            if c.kind == "role":
                after["assume_role_policy"] = encoded(TRUST)
            if p.get("boundary") is not None:
                b_arn = f"arn:aws:iam::{acct}:policy/{name}-boundary"
                changes.append(
                    _noop(
                        "aws_iam_policy",
                        f"{name}_boundary",
                        {"arn": b_arn, "policy": encoded(p["boundary"])},
                    )
                )
                after["permissions_boundary"] = b_arn
            by_ref = ref(f"{rtype}.{name}.name", f"{rtype}.{name}")
            for i, policy in enumerate(p.get("policies", [])):
                way = next(ways, "inline")
                if way == "group" and c.kind != "user":
                    way = "inline"
                pname = f"{name}_{i}"
                if way == "inline" and c.kind == "role" and i == 0:
                    inline_blocks.append({"name": pname, "policy": encoded(policy)})
                elif way == "inline":
                    ptype = f"aws_iam_{c.kind}_policy"
                    changes.append(
                        _noop(
                            ptype, pname, {c.kind: c.name, "name": pname, "policy": encoded(policy)}
                        )
                    )
                    configs.append(conf(ptype, pname, {c.kind: by_ref}))
                elif way == "managed":
                    p_arn = f"arn:aws:iam::{acct}:policy/{pname}"
                    changes.append(
                        _noop(
                            "aws_iam_policy",
                            pname,
                            {"arn": p_arn, "name": pname, "policy": encoded(policy)},
                        )
                    )
                    atype = f"aws_iam_{c.kind}_policy_attachment"
                    changes.append(_noop(atype, pname, {c.kind: c.name, "policy_arn": p_arn}))
                    configs.append(conf(atype, pname, {c.kind: by_ref}))
                else:
                    group = f"g-{pname}"
                    changes.append(
                        _noop(
                            "aws_iam_group",
                            pname,
                            {"arn": f"arn:aws:iam::{acct}:group/{group}", "name": group},
                        )
                    )
                    changes.append(
                        _noop(
                            "aws_iam_group_policy",
                            pname,
                            {"group": group, "policy": encoded(policy)},
                        )
                    )
                    changes.append(
                        _noop(
                            "aws_iam_user_group_membership",
                            pname,
                            {"user": c.name, "groups": [group]},
                        )
                    )
                    configs.append(conf("aws_iam_user_group_membership", pname, {"user": by_ref}))
                    p.setdefault("groups", []).append(group)
            if inline_blocks:
                after["inline_policy"] = inline_blocks
            changes.append(_noop(rtype, name, after))
    data = [resource("aws_caller_identity", "current", {"account_id": A}, mode="data")]
    return plan(changes, data, {"root_module": {"resources": configs}})


class Bag:
    """A multiset compared by element equality (which leaves positions out)."""

    def __init__(self, items: list[object]) -> None:
        self.items = items

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Bag):
            return NotImplemented
        rest = list(other.items)
        for item in self.items:
            if item not in rest:
                return False
            rest.remove(item)
        return not rest

    def __repr__(self) -> str:
        return f"Bag({self.items!r})"


def _statements(p: Policy | None) -> object:
    return None if p is None else (p.version, p.id, p.statements)


def shape(w: World) -> object:
    """What decides access, without names and positions; identity policies as a
    multiset (a plan attaches them in its own order)."""
    keys = [
        (
            k.arn,
            _statements(k.policy),
            k.grants,
            k.aliases,
            k.state,
            k.key_spec,
            k.key_usage,
            k.tags,
        )
        for k in w.keys
    ]
    principals = {
        arn: (
            Bag([_statements(p) for p in i.policies]),
            _statements(i.boundary),
            i.tags,
            _statements(i.trust_policy),
            sorted(i.groups),
        )
        for a in w.accounts.values()
        for arn, i in a.principals.items()
    }
    complete = {a.id: a.complete for a in w.accounts.values() if a.principals}
    return keys, principals, complete, w.unknowns


def _pair(tmp: Path, doc_: dict[str, Any], how: list[str]) -> tuple[World, World]:
    hand = _plain(doc_)
    tf = as_plan(hand, how)  # adds the groups the plan put the users in
    try:
        world = load_world_json(hand)
    except InputError:
        assume(False)
    path = tmp / "plan.json"
    path.write_text(json.dumps(tf, indent=1))
    loaded = read(str(path))
    assert not loaded.errors, [str(d) for d in loaded.errors]
    assert isinstance(loaded.value, World)
    return world, loaded.value


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    worlds(),
    st.lists(st.sampled_from(HOW), max_size=12),
    st.lists(request_specs(), min_size=1, max_size=5),
)
def test_a_plan_reads_as_the_world_it_manages(
    tmp_path: Path, doc_: dict[str, Any], how: list[str], specs: list[dict[str, Any]]
) -> None:
    hand, tf = _pair(tmp_path, doc_, how)
    assert shape(tf) == shape(hand)
    for spec in specs:
        a, b = _decide(hand, spec), _decide(tf, spec)
        assert (a is None) == (b is None)
        if a is not None and b is not None:
            assert a.decision == b.decision, spec


QUERIES = (
    f"can any principal outside account {A} kms:Decrypt",
    *(f"can principal arn:aws:iam::{acct}:role/app kms:CreateGrant" for acct in ACCOUNTS[:2]),
    "can anyone kms:PutKeyPolicy",
)


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(worlds(), st.lists(st.sampled_from(HOW), max_size=12), st.sampled_from(QUERIES))
def test_a_plan_answers_as_the_world_it_manages(
    tmp_path: Path, doc_: dict[str, Any], how: list[str], query: str
) -> None:
    hand, tf = _pair(tmp_path, doc_, how)
    q = parse_query(query)
    assert [a.verdict for a in ask(tf, q, 30.0)] == [a.verdict for a in ask(hand, q, 30.0)]

"""A generated template and the world it resolves to, written by hand, decide every
request alike.

The key policy, the identity policies, boundaries and tags come from the shared
strategies (`tests/support/strategies.py`); every string of them is written into the
template through a randomly chosen intrinsic function that resolves back to it
(`Fn::Sub` with pseudo parameters, `Fn::Join`, a parameter's `Default`, `Fn::FindInMap`,
`Fn::If`, `Fn::Select`, `Fn::Split`, `Fn::GetAtt`/`Ref` of the template's own key and
principals), and the template is written as JSON or as YAML with short-form tags.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kmsprove.errors import InputError
from kmsprove.evaluate import evaluate
from kmsprove.evaluate.context import complete_request
from kmsprove.inputs import read
from kmsprove.inputs.options import ReadOptions
from kmsprove.inputs.world_file import load_world_json
from kmsprove.request import Decision
from kmsprove.world import World
from tests.support.strategies import (
    IP_RESOURCES,
    KEY,
    KP_RESOURCES,
    ROLES,
    USERS,
    A,
    policies,
    request_specs,
    spec_request,
)

KEY_ID = KEY.rsplit("/", 1)[1]
OPTIONS = ReadOptions(account=A, region="us-east-1", physical_ids=(("Key", KEY_ID),))
LOCAL = tuple(p for p in USERS + ROLES if p.split(":")[4] == A)


class Sections:
    """The parameters, mappings and conditions the encodings need."""

    def __init__(self) -> None:
        self.parameters: dict[str, Any] = {}
        self.mappings: dict[str, Any] = {"M": {"k": {}}}
        self.conditions = {"T": {"Fn::Equals": ["a", "a"]}, "F": {"Fn::Not": [{"Condition": "T"}]}}
        self.arns: dict[str, Any] = {KEY: {"Fn::GetAtt": ["Key", "Arn"]}, KEY_ID: {"Ref": "Key"}}

    def parameter(self, value: str, kind: str = "String") -> dict[str, str]:
        name = f"P{len(self.parameters)}"
        self.parameters[name] = {"Type": kind, "Default": value}
        return {"Ref": name}

    def mapped(self, value: str) -> dict[str, Any]:
        name = f"v{len(self.mappings['M']['k'])}"
        self.mappings["M"]["k"][name] = value
        return {"Fn::FindInMap": ["M", "k", name]}


def _sub(s: str) -> dict[str, Any]:
    body = (
        s.replace("${", "${!")
        .replace(A, "${AWS::AccountId}")
        .replace("us-east-1", "${AWS::Region}")
    )
    return {"Fn::Sub": body.replace("arn:aws:", "arn:${AWS::Partition}:")}


def _join(s: str, cut: int) -> dict[str, Any]:
    if A in s:
        parts: list[Any] = []
        for i, piece in enumerate(s.split(A)):
            parts += ([{"Ref": "AWS::AccountId"}] if i else []) + [piece]
        return {"Fn::Join": ["", parts]}
    return {"Fn::Join": ["", [s[:cut], s[cut:]]]}


@st.composite
def encoded_text(draw: st.DrawFn, s: str, sections: Sections) -> Any:
    options = ["plain", "sub", "join", "select", "if-true", "if-false"]
    if s:
        options += ["parameter", "map"]
    if "|" not in s:
        options.append("split")
    if s in sections.arns:
        options += ["getatt", "getatt"]
    how = draw(st.sampled_from(options))
    if how == "sub":
        return _sub(s)
    if how == "join":
        return _join(s, draw(st.integers(0, len(s))))
    if how == "parameter":
        return sections.parameter(s)
    if how == "map":
        return sections.mapped(s)
    if how == "select":
        return {"Fn::Select": [1, ["other", s]]}
    if how == "split":
        return {"Fn::Select": [0, {"Fn::Split": ["|", s + "|tail"]}]}
    if how == "if-true":
        return {"Fn::If": ["T", s, "other"]}
    if how == "if-false":
        return {"Fn::If": ["F", "other", s]}
    if how == "getatt":
        return sections.arns[s]
    return s


@st.composite
def encoded(draw: st.DrawFn, value: Any, sections: Sections) -> Any:
    if isinstance(value, str):
        return draw(encoded_text(value, sections))
    if isinstance(value, dict):
        return {k: draw(encoded(v, sections)) for k, v in value.items()}
    if isinstance(value, list):
        texts = all(isinstance(v, str) and v and "," not in v and v == v.strip() for v in value)
        how = draw(
            st.sampled_from(("items", "split", "list-parameter") if texts and value else ("items",))
        )
        if how == "split":
            return {"Fn::Split": [",", ",".join(value)]}
        if how == "list-parameter":
            return sections.parameter(",".join(value), "CommaDelimitedList")
        return [draw(encoded(v, sections)) for v in value]
    return value


@st.composite
def principals(draw: st.DrawFn) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for arn in draw(st.lists(st.sampled_from(LOCAL), max_size=3, unique=True)):
        spec: dict[str, Any] = {
            "policies": draw(st.lists(policies(False, IP_RESOURCES, 2), max_size=2))
        }
        if draw(st.integers(0, 3)) == 0:
            spec["boundary"] = draw(policies(False, IP_RESOURCES, 2))
        if draw(st.booleans()):
            spec["tags"] = {"team": draw(st.sampled_from(("red", "blue")))}
        out[arn] = spec
    return out


@st.composite
def cases(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """(a template, the world it describes)."""
    key_policy = draw(policies(True, KP_RESOURCES, 4))
    spec = draw(
        st.sampled_from((("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"), ("RSA_2048", "SIGN_VERIFY")))
    )
    enabled = draw(st.booleans())
    people = draw(principals())
    sections = Sections()
    logical = {
        arn: "P" + arn.rsplit("/", 1)[1].capitalize() + arn.split(":")[5][:4] for arn in people
    }
    sections.arns.update({arn: {"Fn::GetAtt": [name, "Arn"]} for arn, name in logical.items()})
    key = {
        "Type": "AWS::KMS::Key",
        "Properties": {
            "KeyPolicy": draw(encoded(key_policy, sections)),
            "KeySpec": draw(encoded_text(spec[0], sections)),
            "KeyUsage": spec[1],
            "Enabled": enabled,
        },
    }
    resources: dict[str, Any] = {
        "Key": key,
        "Alias": {
            "Type": "AWS::KMS::Alias",
            "Properties": {"AliasName": "alias/app", "TargetKeyId": {"Ref": "Key"}},
        },
    }
    for arn, p in people.items():
        kind, name = arn.split(":")[5].split("/", 1)
        props: dict[str, Any] = {
            ("RoleName" if kind == "role" else "UserName"): name,
            "Policies": [
                {"PolicyName": f"p{i}", "PolicyDocument": draw(encoded(d, sections))}
                for i, d in enumerate(p["policies"])
            ],
        }
        if kind == "role":
            props["AssumeRolePolicyDocument"] = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "ec2.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        if "boundary" in p:
            boundary = logical[arn] + "Boundary"
            resources[boundary] = {
                "Type": "AWS::IAM::ManagedPolicy",
                "Properties": {"PolicyDocument": draw(encoded(p["boundary"], sections))},
            }
            props["PermissionsBoundary"] = {"Ref": boundary}
        if "tags" in p:
            props["Tags"] = [
                {"Key": k, "Value": draw(encoded_text(v, sections))} for k, v in p["tags"].items()
            ]
        resources[logical[arn]] = {"Type": f"AWS::IAM::{kind.capitalize()}", "Properties": props}
    doc = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": sections.parameters,
        "Mappings": sections.mappings,
        "Conditions": sections.conditions,
        "Resources": resources,
    }
    world = {
        "version": 1,
        "keys": [
            {
                "arn": KEY,
                "policy": key_policy,
                "aliases": ["alias/app"],
                "state": "Enabled" if enabled else "Disabled",
                "key_spec": spec[0],
                "key_usage": spec[1],
            }
        ],
        "accounts": {A: {"complete": False, "principals": people}},
    }
    return doc, world


# --------------------------------------------------------------------------
# YAML with short-form tags


class _Tagged:
    def __init__(self, tag: str, value: Any) -> None:
        self.tag, self.value = tag, value


class _Dumper(yaml.SafeDumper):
    pass


def _represent(dumper: yaml.SafeDumper, t: _Tagged) -> yaml.Node:
    if isinstance(t.value, str):
        return dumper.represent_scalar(t.tag, t.value)
    if isinstance(t.value, list):
        return dumper.represent_sequence(t.tag, t.value)
    return dumper.represent_mapping(t.tag, t.value)


_Dumper.add_representer(_Tagged, _represent)


def short_forms(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1:
            [(k, v)] = value.items()
            if k == "Ref" or k.startswith("Fn::"):
                return _Tagged("!" + k.removeprefix("Fn::"), short_forms(v))
        return {k: short_forms(v) for k, v in value.items()}
    if isinstance(value, list):
        return [short_forms(v) for v in value]
    return value


def _decide(world: World, spec: dict[str, Any]) -> Decision | None:
    req = spec_request(spec)
    try:
        return evaluate(world, complete_request(world, req))
    except InputError:
        return None


@settings(deadline=None)
@given(cases(), st.booleans(), st.lists(request_specs(), min_size=1, max_size=5))
def test_a_template_decides_every_request_as_its_world(
    case: tuple[dict[str, Any], dict[str, Any]], as_yaml: bool, specs: list[dict[str, Any]]
) -> None:
    doc, world_doc = case
    try:
        hand: World | None = load_world_json(world_doc)
    except InputError:
        hand = None  # generated documents may be invalid: then the template is too
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("t.yaml" if as_yaml else "t.json")
        text = (
            yaml.dump(short_forms(doc), Dumper=_Dumper, sort_keys=False)
            if as_yaml
            else json.dumps(doc)
        )
        path.write_text(text)
        loaded = read(str(path), None, OPTIONS)
    assert (hand is None) == bool(loaded.errors), [str(d) for d in loaded.errors]
    if hand is None:
        return
    got = loaded.value
    assert isinstance(got, World) and got.unknowns == ()
    assert [k.arn for k in got.keys] == [KEY] and got.keys[0].aliases == ("alias/app",)
    assert sorted(got.accounts[A].principals) == sorted(world_doc["accounts"][A]["principals"])
    for spec in specs:
        a, b = _decide(got, spec), _decide(hand, spec)
        assert (a is None) == (b is None)
        if a is not None and b is not None:
            assert (a.allowed, a.reason) == (b.allowed, b.reason), spec

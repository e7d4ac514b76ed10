"""Properties: building and validating never raise, whatever JSON comes in.

Arbitrary JSON values, and policy- and grant-shaped JSON whose elements have
random types and plausible-or-junk values, go through `build_policy` /
`build_grant`, `check_policy` / `check_grant` for every policy kind, and
through `validate_files` for every file kind. Each must return diagnostics
(`Diagnostic` objects with a position in the file) and never raise.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from kmsprove.ast import PolicyKind
from kmsprove.errors import Diagnostic
from kmsprove.inputs import KINDS, validate_files
from kmsprove.operators import OPERATORS
from kmsprove.syntax.grant import build_grant
from kmsprove.syntax.json import parse_json
from kmsprove.syntax.policy import build_policy
from kmsprove.validate import check_grant, check_policy

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)

# plausible strings, near misses and junk, so the semantic checks are reached
words = st.sampled_from(
    [
        "*",
        "",
        "kms:Decrypt",
        "kms:*",
        "kms:Re*",
        "KMS:decrypt",
        "kms:Nope",
        "kms:CreateKey",
        "s3:GetObject",
        "kms",
        "arn:aws:iam::111122223333:root",
        "arn:aws:iam::111122223333:role/app-*",
        "arn:aws:sts::111122223333:assumed-role/r/s",
        "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "arn:aws:kms:${aws:username}:1:key/x",
        "arn:",
        "AROAEXAMPLEDELETED0001",
        "111122223333",
        "logs.*.amazonaws.com",
        "cloudtrail.amazonaws.com",
        "${aws:username}",
        "Decrypt",
        "2026-01-31T00:00:00Z",
        "10.0.0.0/33",
        "true",
        "QmluYXJ5",
        "2012-10-17",
        "2008-10-17",
    ]
)
strings = words | st.text(max_size=12)
string_or_list = strings | st.lists(strings, max_size=3)
anything = string_or_list | json_values

condition_keys = st.sampled_from(
    [
        "kms:EncryptionContext:",
        "kms:EncryptionContext:dept",
        "kms:EncryptionContextKeys",
        "kms:GrantOperations",
        "kms:CallerAccount",
        "kms:CallerAcount",
        "aws:SourceIp",
        "aws:CurrentTime",
        "aws:SecureTransport",
        "aws:PrincipalArn",
        "aws:RequestTag/t",
        "aws:ResourceTag/t",
        "kms:EncryptionContext:${aws:username}",
    ]
) | st.text(max_size=10)
operators = st.sampled_from(
    [
        prefix + op + suffix
        for op in OPERATORS
        for prefix in ("", "ForAllValues:", "ForAnyValue:")
        for suffix in ("", "IfExists")
    ]
) | st.text(max_size=10)
conditions = st.dictionaries(
    operators,
    st.dictionaries(condition_keys, string_or_list, max_size=3) | anything,
    min_size=1,
    max_size=3,
)
principals = (
    st.just("*")
    | st.dictionaries(
        st.sampled_from(["AWS", "Service", "Federated", "CanonicalUser", "aws"]),
        string_or_list,
        max_size=3,
    )
    | json_values
)
element_values = {
    "Sid": strings | json_values,
    "Effect": st.sampled_from(["Allow", "Deny", "allow"]) | json_values,
    "Principal": principals,
    "NotPrincipal": principals,
    "Action": string_or_list | json_values,
    "NotAction": string_or_list | json_values,
    "Resource": string_or_list | json_values,
    "NotResource": string_or_list | json_values,
    "Condition": conditions | json_values,
}
statements = (
    st.fixed_dictionaries(
        {"Effect": element_values["Effect"]},
        optional={k: v for k, v in element_values.items() if k != "Effect"},
    )
    | st.fixed_dictionaries({}, optional={**element_values, "Junk": json_values})
    | json_values
)
policies = st.fixed_dictionaries(
    {"Statement": st.lists(statements, max_size=4) | statements},
    optional={
        "Version": st.sampled_from(["2012-10-17", "2008-10-17"]) | json_values,
        "Id": strings | json_values,
    },
)

pairs = st.dictionaries(strings, strings | json_values, max_size=10)
grants = (
    st.fixed_dictionaries(
        {},
        optional={
            "KeyId": strings | json_values,
            "GrantId": strings,
            "GranteePrincipal": strings | json_values,
            "GranteeServicePrincipal": strings,
            "RetiringPrincipal": strings,
            "RetiringServicePrincipal": strings,
            "IssuingAccount": strings,
            "Operations": string_or_list | json_values,
            "Constraints": st.fixed_dictionaries(
                {},
                optional={
                    "EncryptionContextSubset": pairs | json_values,
                    "EncryptionContextEquals": pairs,
                    "SourceArn": strings | json_values,
                },
            )
            | json_values,
        },
    )
    | json_values
)


def _well_formed(diags: list[Diagnostic], file: str) -> None:
    for d in diags:
        assert isinstance(d, Diagnostic)
        assert d.pos.file.startswith(file) and d.pos.line >= 1 and d.pos.col >= 1
        assert d.message and d.message[0] == d.message[0].lower() and not d.message.endswith(".")
        assert d.message.isprintable(), d.message  # one line, whatever the input held


def _check_every_kind(value: Any) -> None:
    text = json.dumps(value)
    node = parse_json(text, "p.json")
    for kind in PolicyKind:
        policy, diags = build_policy(node, kind, "p.json")
        if policy is not None:
            diags = diags + check_policy(policy) + check_policy(policy, text)
        _well_formed(diags, "p.json")


@given(json_values)
@example(
    {"Statement": {"Effect": "Allow", "Principal": {"AWS": []}, "Condition": {"Bool": {"k": []}}}}
)
def test_any_json_validates_without_raising(value: Any) -> None:
    _check_every_kind(value)


@given(policies)
@example(
    {
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:role/x"}, "NotPrincipal": "*"}
        ]
    }
)
@example({"Statement": [{"Effect": "Deny", "NotPrincipal": {"AWS": "arn:x:role/"}}]})
@example({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "x\ny"}, "Action": "kms:\u2028"}]})
def test_policy_shaped_json_validates_without_raising(value: Any) -> None:
    _check_every_kind(value)


@given(st.lists(grants, max_size=4))
def test_grant_shaped_json_validates_without_raising(items: list[Any]) -> None:
    node = parse_json(json.dumps(items), "g.json")
    diags: list[Diagnostic] = []
    for item in node.items:  # type: ignore[attr-defined]
        g = build_grant(item, diags, "")
        if g is not None:
            diags.extend(check_grant(g))
    _well_formed(diags, "g.json")


@settings(max_examples=60)
@given(json_values | policies | st.lists(grants, max_size=3), st.sampled_from([None, *KINDS]))
def test_validate_files_never_raises(value: Any, kind: str | None) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "f.json"
        path.write_text(json.dumps(value))
        diags = validate_files([str(path)], kind)
    _well_formed(diags, str(path))

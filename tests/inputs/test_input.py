"""validate_files as a library: kinds, guessing, and what the CLI cannot reach."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kmsprove.errors import InputError
from kmsprove.inputs import KINDS, guess_kind, validate_files
from kmsprove.syntax.json import parse_json

ROOT = "arn:aws:iam::111122223333:root"


def test_unknown_kind_is_a_command_line_error() -> None:
    with pytest.raises(InputError) as exc:
        validate_files(["p.json"], "keypolicy")
    assert [str(d) for d in exc.value.diagnostics] == [
        "<cli>:1:1: error: unknown kind `keypolicy` (did you mean `key-policy`?)"
    ]


def test_every_policy_kind_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    st = {"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"}
    path.write_text(json.dumps({"Version": "2012-10-17", "Statement": [st]}))
    assert set(KINDS) >= {"session-policy", "vpce-policy", "trust-policy", "grants", "world"}
    found = {kind: [d.message for d in validate_files([str(path)], kind)] for kind in KINDS}
    assert found["session-policy"] == []
    assert found["vpce-policy"] == [
        "statement has no `Principal`: every statement of a VPC endpoint policy names one"
    ]
    assert "a trust policy cannot have `Resource`" in found["trust-policy"]


@pytest.mark.parametrize(
    ("doc", "kind"),
    [
        ({"version": 1, "keys": []}, "world"),
        ([], "grants"),
        ({"Grants": []}, "grants"),
        ({"Policy": "{}"}, "key-policy"),
        (
            {"Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]},
            "identity-policy",
        ),
        (
            {
                "Statement": {
                    "Effect": "Allow",
                    "Principal": {"AWS": ROOT},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            },
            "key-policy",
        ),
        (
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::b/*",
                    }
                ]
            },
            "bucket-policy",
        ),
        (
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "ec2.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ]
            },
            "trust-policy",
        ),
        (
            {
                "Statement": [
                    {
                        "Effect": "Deny",
                        "NotPrincipal": {"AWS": ROOT},
                        "Action": "kms:*",
                        "Resource": "*",
                    }
                ]
            },
            "key-policy",
        ),
        ("text", "identity-policy"),
    ],
)
def test_guess_kind(doc: object, kind: str) -> None:
    assert guess_kind(parse_json(json.dumps(doc), "f.json")) == kind


def test_diagnostics_of_several_files_are_sorted_and_cut(tmp_path: Path) -> None:
    paths = []
    for i in range(30):
        p = tmp_path / f"f{i:02}.json"
        p.write_text(
            json.dumps(
                {"Statement": [{"Effect": "Allow", "Action": ["kms:Nope", "x"], "Resource": "*"}]}
            )
        )
        paths.append(str(p))
    diags = validate_files(paths, "identity-policy")
    assert len(diags) == 51
    assert diags[-1].message == "too many errors, stopping here"
    assert [d.pos for d in diags[:-1]] == sorted(d.pos for d in diags[:-1])

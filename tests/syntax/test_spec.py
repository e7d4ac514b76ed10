"""Tests of spec files (`kmsprove check`): `expect yes|no: QUERY` lines.

Comments, blank lines and trailing `# comments` are skipped; every bad line is
reported with the spec file's line and column (the query's columns shifted by
the `expect ...:` prefix).
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kmsprove.ast import CondOp, Expectation, Query, QueryCond, Who, WhoKind
from kmsprove.errors import InputError, SourcePos
from kmsprove.syntax.query import parse_query
from kmsprove.syntax.spec import parse_spec

SPEC = """\
# invariants for the payments key

expect no:  can any principal outside account 111122223333 kms:Decrypt
expect yes: can principal arn:aws:iam::111122223333:role/KeyAdmin kms:PutKeyPolicy   # admins
    # indented comment
  expect no: can anyone kms:Decrypt where kms:EncryptionContext:x == "a # b" # a comment
expect yes:can anyone kms:Encrypt
"""


def errors_of(text: str) -> list[str]:
    with pytest.raises(InputError) as info:
        parse_spec(text, "s.spec")
    return [str(d) for d in info.value.diagnostics]


def test_expectations_with_comments_and_blank_lines() -> None:
    got = parse_spec(SPEC, "s.spec")
    assert [(e.expect, e.line) for e in got] == [(False, 3), (True, 4), (False, 6), (True, 7)]
    assert got[0].query == parse_query("can any principal outside account 111122223333 kms:Decrypt")
    assert got[1].query.text == (
        "can principal arn:aws:iam::111122223333:role/KeyAdmin kms:PutKeyPolicy"
    )
    # a `#` inside a string is part of the string, the one after it starts a comment
    assert got[2].query.conditions == (QueryCond("kms:EncryptionContext:x", CondOp.EQ, "a # b"),)
    assert got[3].query.actions == ("kms:Encrypt",)


def test_positions_are_in_the_spec_file() -> None:
    got = parse_spec(SPEC, "s.spec")
    assert got[0].pos == SourcePos("s.spec", 3, 1)
    assert got[0].query.pos == SourcePos("s.spec", 3, 13)
    assert got[0].query.who.pos == SourcePos("s.spec", 3, 17)
    assert got[2].pos == SourcePos("s.spec", 6, 3)
    assert got[2].query.conditions[0].pos == SourcePos("s.spec", 6, 43)
    assert got[3].query.pos == SourcePos("s.spec", 7, 12)


def test_expectation_equality_ignores_pos() -> None:
    query = Query(Who(WhoKind.ANYONE), ("kms:Decrypt",), text="can anyone kms:Decrypt")
    expected = Expectation(True, query, 2, SourcePos("elsewhere", 9, 9))
    assert parse_spec("\nexpect yes: can anyone kms:Decrypt\n", "s.spec") == (expected,)


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "   \n\t\n  # x"])
def test_empty_specs(text: str) -> None:
    assert parse_spec(text) == ()


def test_crlf_lines() -> None:
    got = parse_spec("# c\r\nexpect no: can anyone kms:Decrypt\r\n\r\n")
    assert [(e.expect, e.line, e.query.text) for e in got] == [(False, 2, "can anyone kms:Decrypt")]


def test_default_name() -> None:
    with pytest.raises(InputError) as info:
        parse_spec("nope")
    assert str(info.value) == (
        "<spec>:1:1: error: expected `expect yes:` or `expect no:`, found `nope`"
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "expected yes: can anyone kms:Decrypt",
            "s.spec:1:1: error: expected `expect yes:` or `expect no:`, found `expected`",
        ),
        (
            "can anyone kms:Decrypt",
            "s.spec:1:1: error: expected `expect yes:` or `expect no:`, found `can`",
        ),
        (
            "  expect maybe: can anyone kms:Decrypt",
            "s.spec:1:10: error: expected `yes` or `no` after `expect`, found `maybe`",
        ),
        (
            "expect: can anyone kms:Decrypt",
            "s.spec:1:7: error: expected `yes` or `no` after `expect`",
        ),
        (
            "expect YES: can anyone kms:Decrypt",
            "s.spec:1:8: error: expected `yes` or `no` after `expect`, found `YES`",
        ),
        ("expect yes can anyone kms:Decrypt", "s.spec:1:11: error: missing `:` after `expect yes`"),
        ("expect no:", "s.spec:1:11: error: expected a query after `expect no:`"),
        ("expect no:   # nothing", "s.spec:1:11: error: expected a query after `expect no:`"),
        # query errors, shifted by the prefix
        ("expect no: can anyone kms:Foo", "s.spec:1:23: error: `kms:Foo` matches no KMS action"),
        (
            "expect no:    can anyone",
            "s.spec:1:25: error: expected `ever` or an action after `anyone`",
        ),
        ("expect no: can anyone kms:Decrypt # x", None),  # valid: trailing comment
        (
            'expect no: can anyone kms:Decrypt where k:x == "a # b',
            "s.spec:1:48: error: unterminated string",
        ),
    ],
)
def test_line_errors(line: str, message: str | None) -> None:
    if message is None:
        assert len(parse_spec(line, "s.spec")) == 1
    else:
        assert errors_of(line) == [message]


def test_every_bad_line_is_reported() -> None:
    text = "\n".join(
        [
            "# header",
            "expect no: can anyone kms:Decrypt",
            "expect no: can anyone kms:Fo",
            "",
            "expect maybe: can anyone kms:Decrypt",
            "expect yes: can any principal in account 12 kms:Decrypt, kms:Encryptt",
            "expect yes: can anyone kms:Encrypt",
            "expect no can anyone",
        ]
    )
    assert errors_of(text) == [
        "s.spec:3:23: error: `kms:Fo` matches no KMS action",
        "s.spec:5:8: error: expected `yes` or `no` after `expect`, found `maybe`",
        "s.spec:6:42: error: account id `12` must be 12 digits",
        "s.spec:6:58: error: `kms:Encryptt` matches no KMS action (did you mean `kms:Encrypt`?)",
        "s.spec:8:10: error: missing `:` after `expect no`",
    ]


def test_error_count_is_capped() -> None:
    text = "\n".join(["expect no: can anyone kms:Foo"] * 60)
    errs = errors_of(text)
    assert len(errs) == 51
    assert errs[-1] == "s.spec:51:23: error: too many errors, stopping here"


@given(st.text())
def test_arbitrary_text_raises_only_input_error(text: str) -> None:
    try:
        parse_spec(text)
    except InputError as exc:
        lines = text.split("\n")
        for d in exc.diagnostics[:50]:
            assert 1 <= d.pos.line <= len(lines)
            assert 1 <= d.pos.col <= len(lines[d.pos.line - 1]) + 1


QUERIES = [
    "can anyone kms:Decrypt",
    'can any principal outside org o-abcdefghij kms:Encrypt where kms:x == "# not a comment"',
    "can service s3.amazonaws.com s3:GetObject on bucket arn:aws:s3:::reports",
]


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["yes", "no"]),
            st.sampled_from(QUERIES),
            st.sampled_from(["", "  # why", "#x"]),
            st.sampled_from(["", "  ", "\t"]),
        ),
        max_size=8,
    )
)
def test_generated_specs(lines: list[tuple[str, str, str, str]]) -> None:
    text = "\n".join(
        f"{indent}expect {yn}: {query}{comment}" for yn, query, comment, indent in lines
    )
    got = parse_spec(text, "g.spec")
    assert [(e.expect, e.line) for e in got] == [
        (yn == "yes", i) for i, (yn, *_) in enumerate(lines, start=1)
    ]
    for e, (_, query, _, indent) in zip(got, lines, strict=True):
        assert e.query == dataclasses.replace(parse_query(query), text=query)
        assert e.pos == SourcePos("g.spec", e.line, len(indent) + 1)

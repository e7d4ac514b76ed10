"""`kmsprove validate` on broken input: JSON syntax, unreadable files, policy structure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import kmsprove.inputs.files as files
from tests.cli.test_validate import Expected, check, kst
from tests.support.builders import at, policy_text, stmt_at, value_at
from tests.support.cli import run_validate

SYNTAX: list[Any] = []


def syntax(name: str, text: str | bytes, pos: str, msg: str) -> None:
    SYNTAX.append(pytest.param(text, [(pos, "error", msg)], id=name))


t = '{"Version": "2012-10-17", // note\n"Statement": []}'
syntax("comment", t, at(t, "//"), "comments are not allowed in JSON")
t = '{"Version": "2012-10-17",\n /* note */ "Statement": []}'
syntax("block-comment", t, at(t, "/*"), "comments are not allowed in JSON")
t = '{"Version": "2012-10-17"\n "Statement": []}'
syntax("missing-comma", t, at(t, '"Statement"'), 'missing `,` before `"Statement"`')
t = '{"Version": "2012-10-17", "Statement": [],\n}'
syntax("trailing-comma", t, ":2:1", "trailing comma: JSON allows no `,` before a closing bracket")
t = '{"Statement": [],\n  "Statement": []}'
syntax("duplicate-key", t, ":2:3", "duplicate member `Statement` (first at line 1, column 2)")
t = "{'Statement': []}"
syntax("single-quotes", t, ":1:2", "strings must use double quotes `\"`, not `'`")
t = '{"Statement": [], "Version": True}'
syntax(
    "bad-literal", t, at(t, "True"), "unexpected word `True`: JSON has only true, false and null"
)
t = '{"Statement": [], "Version": NaN}'
syntax("nan", t, at(t, "NaN"), "unexpected word `NaN`: JSON has only true, false and null")
t = '{"Statement": [\n  {"Effect": "Allow"'
syntax("unexpected-eof", t, f":2:{len(t.splitlines()[1]) + 1}", "unexpected end of file")
t = '{"Version": "2012\t10", "Statement": []}'
syntax("control-char", t, ":1:13", "bad string: unescaped control character or bad escape")
t = '{"Version": "2012\\q", "Statement": []}'
syntax("bad-escape", t, ":1:13", "bad string: unescaped control character or bad escape")
syntax("unexpected-token", "{,}", ":1:2", "unexpected `,`")
syntax("colon", '{"Statement" []}', ":1:14", "expected `:` after the member name, found `[`")
syntax("empty-file", "", ":1:1", "empty file: expected a JSON value")
syntax("blank-file", " \n\t\n", ":1:1", "empty file: expected a JSON value")
syntax("undecodable", b'{"Sid": "\xff"}', ":1:10", "invalid UTF-8 byte `0xff`")
syntax("undecodable-line-2", b'{\n  "Sid": "ok\xc3"}', ":2:13", "invalid UTF-8 byte `0xc3`")
t = "[" * 100 + "]" * 100
syntax("deep-nesting", t, ":1:65", "nesting deeper than 64 levels")


@pytest.mark.parametrize(("text", "expected"), SYNTAX)
def test_syntax_errors(tmp_path: Path, text: str | bytes, expected: Expected) -> None:
    check(tmp_path, None, "p.json", text, expected)


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    check(tmp_path, "key-policy", "p.json", "\ufeff" + policy_text(kst()), [])


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    result = run_validate(tmp_path, str(missing))
    assert result.stderr.splitlines() == [f"{missing}:1:1: error: no such file"]
    assert result.exit_code == 2


def test_directory(tmp_path: Path) -> None:
    d = tmp_path / "dir"
    d.mkdir()
    result = run_validate(tmp_path, "--kind", "key-policy", str(d))
    assert result.stderr.splitlines() == [f"{d}:1:1: error: is a directory, not a file"]
    assert result.exit_code == 2


def test_huge_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "MAX_FILE_BYTES", 100)
    path = tmp_path / "big.json"
    text = policy_text(kst())
    path.write_text(text)
    size = len(text.encode())
    result = run_validate(tmp_path, str(path))
    assert result.stderr.splitlines() == [
        f"{path}:1:1: error: file is {size} bytes, larger than the 100 bytes kmsprove reads"
    ]
    assert result.exit_code == 2


def test_bad_kind_is_refused_by_click(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(policy_text(kst()))
    result = run_validate(tmp_path, "--kind", "nope", str(path))
    assert result.exit_code == 2
    assert "nope" in result.output


# -- structure (kmsprove/syntax/policy.py) -------------------------------------------------

STRUCTURE: list[Any] = []


def structure(name: str, kind: str | None, text: str, expected: Expected) -> None:
    STRUCTURE.append(pytest.param(kind, text, expected, id=name))


structure(
    "not-an-object",
    "key-policy",
    "[1]",
    [(":1:1", "error", "a policy must be a JSON object, not an array")],
)
t = '{"Version": "2012-10-18", "Id": 7, "Statements": []}'
structure(
    "top-level",
    "key-policy",
    t,
    [
        (
            value_at(t, "Version"),
            "error",
            "`Version` must be `2012-10-17` or `2008-10-17`, not `2012-10-18`",
        ),
        (value_at(t, "Id"), "error", "`Id` must be a string, not a number"),
        (
            at(t, '"Statements"'),
            "error",
            "unknown policy element `Statements` (did you mean `Statement`?)",
        ),
        (":1:1", "error", "policy has no `Statement`"),
    ],
)
t = '{"Version": 2012, "Statement": []}'
structure(
    "version-type",
    "key-policy",
    t,
    [(value_at(t, "Version"), "error", "`Version` must be a string, not a number")],
)
t = policy_text(kst(), version=None)
structure(
    "no-version",
    "key-policy",
    t,
    [
        (
            ":1:1",
            "warning",
            "no `Version`: AWS reads the policy as version 2008-10-17, where policy variables are literal text",
        )
    ],
)
t = policy_text("not a statement", kst(Action=[1]), kst(Action=[]), kst(Action={"a": 1}))  # type: ignore[arg-type]
structure(
    "statement-and-strings",
    "key-policy",
    t,
    [
        (stmt_at(1), "error", "a statement must be a JSON object, not a string"),
        (at(t, "1]"), "error", "`Action` entries must be strings, not a number"),
        (value_at(t, "Action", 2), "error", "`Action` is an empty array"),
        (
            value_at(t, "Action", 3),
            "error",
            "`Action` must be a string or an array of strings, not an object",
        ),
    ],
)
t = policy_text(
    kst(Actions="kms:Decrypt", Sid=7),
    kst(Effect="allow"),
    kst(Effect=True),
    kst(Effect=None),
    kst(NotAction="kms:Encrypt"),
)
structure(
    "statement-elements",
    "key-policy",
    t,
    [
        (
            at(t, '"Actions"'),
            "error",
            "unknown statement element `Actions` (did you mean `Action`?)",
        ),
        (value_at(t, "Sid"), "error", "`Sid` must be a string, not a number"),
        (
            value_at(t, "Effect", 2),
            "error",
            "`Effect` must be `Allow` or `Deny`, not `allow` (did you mean `Allow`?)",
        ),
        (value_at(t, "Effect", 3), "error", "`Effect` must be a string, not a boolean"),
        (stmt_at(4), "error", "statement has no `Effect`"),
        (stmt_at(5), "error", "a statement cannot have both `Action` and `NotAction`"),
    ],
)
t = policy_text(
    kst(Principal="arn:aws:iam::111122223333:root"),
    kst(Principal=["*"]),
    kst(Principal={"aws": "*"}),
    kst(Principal={}),
    kst(Principal={"AWS": [7]}),
)
structure(
    "principal-structure",
    "key-policy",
    t,
    [
        (
            value_at(t, "Principal", 1),
            "error",
            '`Principal` must be `"*"` or an object such as {"AWS": ...}, not the string `arn:aws:iam::111122223333:root`',
        ),
        (
            value_at(t, "Principal", 2),
            "error",
            '`Principal` must be `"*"` or an object, not an array',
        ),
        (at(t, '"aws"'), "error", "unknown principal type `aws` (did you mean `AWS`?)"),
        (value_at(t, "Principal", 4), "error", "`Principal` is an empty object"),
        (at(t, "7]"), "error", "`Principal.AWS` entries must be strings, not a number"),
    ],
)
t = policy_text(
    kst(Condition=[]),
    kst(Condition={"ForAnyValues:StringEquals": {"kms:CallerAccount": "1"}}),
    kst(
        Condition={
            "NullIfExists": {"kms:CallerAccount": "true"},
            "StringEqualz": {"kms:CallerAccount": "1"},
        }
    ),
    kst(Condition={"StringEquals": "kms:CallerAccount"}),
    kst(Condition={"StringEquals": {"kms:CallerAccount": [None, {}]}}),
    kst(Condition={"StringEquals": {"kms:CallerAccount": []}}),
)
structure(
    "condition-structure",
    "key-policy",
    t,
    [
        (value_at(t, "Condition", 1), "error", "`Condition` must be an object, not an array"),
        (
            at(t, '"ForAnyValues:StringEquals"'),
            "error",
            "unknown set operator `ForAnyValues` in `ForAnyValues:StringEquals` (did you mean `ForAnyValue`?)",
        ),
        (at(t, '"NullIfExists"'), "error", "`Null` cannot take `IfExists`"),
        (
            at(t, '"StringEqualz"'),
            "error",
            "unknown condition operator `StringEqualz` (did you mean `StringEquals`?)",
        ),
        (
            value_at(t, "StringEquals", 1),
            "error",
            "the `StringEquals` block must be an object of condition keys, not a string",
        ),
        (at(t, "null"), "error", "condition values must be strings, numbers or booleans, not null"),
        (
            at(t, "{}]"),
            "error",
            "condition values must be strings, numbers or booleans, not an object",
        ),
        (
            value_at(t, "kms:CallerAccount", 5),
            "error",
            "condition key `kms:CallerAccount` has an empty list of values",
        ),
    ],
)


@pytest.mark.parametrize(("kind", "text", "expected"), STRUCTURE)
def test_structure_messages(
    tmp_path: Path, kind: str | None, text: str, expected: Expected
) -> None:
    check(tmp_path, kind, "p.json", text, expected)


def test_unrecognised_files_get_one_clear_error(tmp_path: Path) -> None:
    auth = '{"UserDetailList": [], "RoleDetailList": [], "Policies": []}'
    check(
        tmp_path,
        None,
        "auth.json",
        auth,
        [
            (
                ":1:1",
                "error",
                "this is `aws iam get-account-authorization-details` output: validate the world "
                'file that imports it (`"import"` in an account)',
            )
        ],
    )
    check(
        tmp_path,
        None,
        "settings.json",
        '{"principal": "arn:aws:iam::111122223333:root", "region": "us-east-1"}',
        [
            (
                ":1:1",
                "error",
                "cannot tell what this file holds: no `Statement` (a policy), `Grants` (grants), "
                "`Policy` (get-key-policy output), `principal` and `action` (a request), "
                "`version` (a world file) or `format_version` with `planned_values`, `values` "
                "or `resource_changes` (`terraform show -json`); use `--kind`",
            )
        ],
    )
    # a request file is one (issue 11): it validates as a request
    check(
        tmp_path,
        None,
        "request.json",
        '{"principal": "arn:aws:iam::111122223333:root", "action": "kms:Decrypt"}',
        [],
    )
    # with --kind the file is taken at its word
    check(
        tmp_path,
        "identity-policy",
        "empty.json",
        "{}",
        [(":1:1", "error", "policy has no `Statement`")],
    )

"""Tests of kmsprove.syntax.query: the query language (DESIGN.md, "Query language").

Every form of the grammar maps to the expected AST, every error message is
pinned with its exact position, and hypothesis checks that the parser only ever
raises `InputError` (on arbitrary text and on soups of the language's words)
and that `parse_query(render_query(q))` gives `q` back for generated queries.
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from kmsprove import catalog
from kmsprove.ast import CondOp, Query, QueryCond, Target, Who, WhoKind
from kmsprove.errors import InputError, SourcePos
from kmsprove.syntax.lark_standalone import Tree
from kmsprove.syntax.query import _Build, _parser, parse_query, render_query
from kmsprove.syntax.query_checks import Where

A1, A2 = "111122223333", "444455556666"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:us-east-1:{A1}:key/{KEY_ID}"
ROLE = f"arn:aws:iam::{A1}:role/KeyAdmin"


def q(text: str) -> Query:
    return parse_query(text)


def errors_of(text: str, name: str = "<query>") -> list[str]:
    with pytest.raises(InputError) as info:
        parse_query(text, name)
    return [str(d) for d in info.value.diagnostics]


def the_error(text: str) -> str:
    errs = errors_of(text)
    assert len(errs) == 1, errs
    return errs[0]


# --------------------------------------------------------------------------
# who


@pytest.mark.parametrize(
    ("who_text", "who"),
    [
        ("anyone", Who(WhoKind.ANYONE)),
        ("any principal", Who(WhoKind.ANY_PRINCIPAL)),
        (f"any principal outside account {A1}", Who(WhoKind.OUTSIDE_ACCOUNTS, accounts=(A1,))),
        (
            f"any principal outside account {A1},{A2}",
            Who(WhoKind.OUTSIDE_ACCOUNTS, accounts=(A1, A2)),
        ),
        (f"any principal in account {A1} , {A2}", Who(WhoKind.IN_ACCOUNTS, accounts=(A1, A2))),
        (f"any principal in account {A2},{A1}", Who(WhoKind.IN_ACCOUNTS, accounts=(A2, A1))),
        ("any principal outside org o-abcdefghij", Who(WhoKind.OUTSIDE_ORG, org="o-abcdefghij")),
        # `any iam principal ...` leaves AWS service principals out (issue 11)
        ("any iam principal", Who(WhoKind.ANY_PRINCIPAL, iam_only=True)),
        (
            f"any iam principal outside account {A1}",
            Who(WhoKind.OUTSIDE_ACCOUNTS, accounts=(A1,), iam_only=True),
        ),
        (
            f"any iam principal in account {A1},{A2}",
            Who(WhoKind.IN_ACCOUNTS, accounts=(A1, A2), iam_only=True),
        ),
        (
            "any iam principal outside org o-abcdefghij",
            Who(WhoKind.OUTSIDE_ORG, org="o-abcdefghij", iam_only=True),
        ),
        (f"principal {ROLE}", Who(WhoKind.PRINCIPAL, pattern=ROLE)),
        (
            "principal arn:aws:iam::*:role/Admin*",
            Who(WhoKind.PRINCIPAL, pattern="arn:aws:iam::*:role/Admin*"),
        ),
        # IAM names may hold + = , . @ - _
        (
            f"principal arn:aws:iam::{A1}:user/a+b=c,d.e@f-g_h",
            Who(WhoKind.PRINCIPAL, pattern=f"arn:aws:iam::{A1}:user/a+b=c,d.e@f-g_h"),
        ),
        (
            f"principal arn:aws:sts::{A1}:assumed-role/R/s?",
            Who(WhoKind.PRINCIPAL, pattern=f"arn:aws:sts::{A1}:assumed-role/R/s?"),
        ),
        ("principal *", Who(WhoKind.PRINCIPAL, pattern="*")),
        (
            "service cloudtrail.amazonaws.com",
            Who(WhoKind.SERVICE, pattern="cloudtrail.amazonaws.com"),
        ),
    ],
)
def test_who_forms(who_text: str, who: Who) -> None:
    parsed = q(f"can {who_text} kms:Decrypt")
    assert parsed.who == who
    assert parsed.who.pos == SourcePos("<query>", 1, 5)


# --------------------------------------------------------------------------
# actions, targets, conditions


def test_actions_keep_case_and_order() -> None:
    parsed = q("can anyone kms:Encrypt , KMS:decrypt,kms:ReEncrypt*,kms:Gen?rateDataKey*")
    assert parsed.actions == (
        "kms:Encrypt",
        "KMS:decrypt",
        "kms:ReEncrypt*",
        "kms:Gen?rateDataKey*",
    )


def test_ever() -> None:
    assert q("can anyone ever kms:CreateGrant").ever
    assert not q("can anyone kms:CreateGrant").ever


@pytest.mark.parametrize(
    "ref",
    [
        KEY_ARN,
        KEY_ID,
        "mrk-1234abcd1234abcd1234abcd1234abcd",
        "alias/my-key",
        "alias/aws/s3",
        f"arn:aws:kms:eu-west-2:{A1}:alias/my_key",
        f"arn:aws-cn:kms:cn-north-1:{A1}:key/{KEY_ID}",
    ],
)
def test_key_targets(ref: str) -> None:
    parsed = q(f"can anyone kms:Decrypt on key {ref}")
    assert parsed.target == Target("key", ref)
    assert parsed.target is not None and parsed.target.pos == SourcePos("<query>", 1, 24)


def test_bucket_target() -> None:
    parsed = q("can anyone s3:GetObject, s3:PutObject on bucket arn:aws:s3:::my.bucket-1")
    assert parsed.target == Target("bucket", "arn:aws:s3:::my.bucket-1")
    assert parsed.actions == ("s3:GetObject", "s3:PutObject")


def test_no_target() -> None:
    assert q("can anyone kms:Decrypt").target is None


@pytest.mark.parametrize(
    ("cond_text", "cond"),
    [
        (
            'kms:EncryptionContext:Dept == "IT"',
            QueryCond("kms:EncryptionContext:Dept", CondOp.EQ, "IT"),
        ),
        ('aws:PrincipalTag/team != "x"', QueryCond("aws:PrincipalTag/team", CondOp.NE, "x")),
        (
            'kms:ViaService like "s3.*.amazonaws.com"',
            QueryCond("kms:ViaService", CondOp.LIKE, "s3.*.amazonaws.com"),
        ),
        (
            "has kms:EncryptionContext:aws:s3:arn",
            QueryCond("kms:EncryptionContext:aws:s3:arn", CondOp.HAS),
        ),
        ("not has aws:SourceIp", QueryCond("aws:SourceIp", CondOp.NOT_HAS)),
        # no spaces needed around the operators
        ('kms:x=="a"', QueryCond("kms:x", CondOp.EQ, "a")),
        ('kms:x!="a"', QueryCond("kms:x", CondOp.NE, "a")),
        # JSON escapes, and the characters that end a word are plain inside strings
        (r'kms:x == "a\"b\\c\nd\u00e9 #,="', QueryCond("kms:x", CondOp.EQ, 'a"b\\c\ndé #,=')),
        ('kms:x == ""', QueryCond("kms:x", CondOp.EQ, "")),
        # a key that starts like a keyword is one word
        ('hasty:x == "1"', QueryCond("hasty:x", CondOp.EQ, "1")),
        (
            'aws:PrincipalTag/チーム == "開発"',
            QueryCond("aws:PrincipalTag/チーム", CondOp.EQ, "開発"),
        ),
    ],
)
def test_condition_forms(cond_text: str, cond: QueryCond) -> None:
    parsed = q(f"can anyone kms:Decrypt where {cond_text}")
    assert parsed.conditions == (cond,)
    assert parsed.conditions[0].pos == SourcePos("<query>", 1, 30)


def test_several_conditions_in_order() -> None:
    parsed = q('can anyone kms:Decrypt where has a:b and not has c:d and e:f == "g"')
    assert [c.op for c in parsed.conditions] == [CondOp.HAS, CondOp.NOT_HAS, CondOp.EQ]
    assert [c.pos.col for c in parsed.conditions] == [30, 42, 58]


# --------------------------------------------------------------------------
# whole queries: exact ASTs

EXACT = [
    ("can anyone kms:Decrypt", Query(Who(WhoKind.ANYONE), ("kms:Decrypt",))),
    (
        f"can any principal outside account {A1} kms:Decrypt",
        Query(Who(WhoKind.OUTSIDE_ACCOUNTS, accounts=(A1,)), ("kms:Decrypt",)),
    ),
    (
        f"can principal {ROLE} kms:PutKeyPolicy",
        Query(Who(WhoKind.PRINCIPAL, pattern=ROLE), ("kms:PutKeyPolicy",)),
    ),
    (
        "can any principal ever kms:Decrypt, kms:ReEncrypt*",
        Query(Who(WhoKind.ANY_PRINCIPAL), ("kms:Decrypt", "kms:ReEncrypt*"), ever=True),
    ),
    (
        f"can service cloudtrail.amazonaws.com kms:GenerateDataKey* on key {KEY_ARN}",
        Query(
            Who(WhoKind.SERVICE, pattern="cloudtrail.amazonaws.com"),
            ("kms:GenerateDataKey*",),
            target=Target("key", KEY_ARN),
        ),
    ),
    (
        'can anyone kms:Decrypt on key alias/app where kms:EncryptionContext:app == "web"',
        Query(
            Who(WhoKind.ANYONE),
            ("kms:Decrypt",),
            target=Target("key", "alias/app"),
            conditions=(QueryCond("kms:EncryptionContext:app", CondOp.EQ, "web"),),
        ),
    ),
    (
        f"can any principal in account {A1},{A2} ever kms:CreateGrant where not has kms:GrantIsForAWSResource",
        Query(
            Who(WhoKind.IN_ACCOUNTS, accounts=(A1, A2)),
            ("kms:CreateGrant",),
            ever=True,
            conditions=(QueryCond("kms:GrantIsForAWSResource", CondOp.NOT_HAS),),
        ),
    ),
    (
        "can any principal outside org o-a1b2c3d4e5 kms:*",
        Query(Who(WhoKind.OUTSIDE_ORG, org="o-a1b2c3d4e5"), ("kms:*",)),
    ),
    (
        'can anyone s3:GetObject on bucket arn:aws:s3:::reports where s3:prefix like "2024/*"',
        Query(
            Who(WhoKind.ANYONE),
            ("s3:GetObject",),
            target=Target("bucket", "arn:aws:s3:::reports"),
            conditions=(QueryCond("s3:prefix", CondOp.LIKE, "2024/*"),),
        ),
    ),
    (
        'can anyone kms:Encrypt where aws:SourceVpc != "vpc-1" and has aws:SourceVpce',
        Query(
            Who(WhoKind.ANYONE),
            ("kms:Encrypt",),
            conditions=(
                QueryCond("aws:SourceVpc", CondOp.NE, "vpc-1"),
                QueryCond("aws:SourceVpce", CondOp.HAS),
            ),
        ),
    ),
    (
        f"can principal arn:aws:iam::{A1}:root ever kms:ScheduleKeyDeletion, kms:DisableKey on key {KEY_ID}",
        Query(
            Who(WhoKind.PRINCIPAL, pattern=f"arn:aws:iam::{A1}:root"),
            ("kms:ScheduleKeyDeletion", "kms:DisableKey"),
            ever=True,
            target=Target("key", KEY_ID),
        ),
    ),
    (
        "can service s3.amazonaws.com s3:PutObject on bucket arn:aws:s3:::b-1 where has s3:x-amz-server-side-encryption-aws-kms-key-id",
        Query(
            Who(WhoKind.SERVICE, pattern="s3.amazonaws.com"),
            ("s3:PutObject",),
            target=Target("bucket", "arn:aws:s3:::b-1"),
            conditions=(QueryCond("s3:x-amz-server-side-encryption-aws-kms-key-id", CondOp.HAS),),
        ),
    ),
]


@pytest.mark.parametrize(("text", "expected"), EXACT)
def test_exact_ast(text: str, expected: Query) -> None:
    assert q(text) == dataclasses.replace(expected, text=text)
    # render gives the canonical spelling, which reads back the same
    assert render_query(q(text)) == text


def test_text_is_stripped_and_positions_follow_lines() -> None:
    text = "  can anyone\n  kms:Decrypt\n  on key alias/x\n  where has kms:x  \n"
    parsed = q(text)
    assert parsed.text == text.strip()
    assert parsed.pos == SourcePos("<query>", 1, 3)
    assert parsed.who.pos == SourcePos("<query>", 1, 7)
    assert parsed.target is not None and parsed.target.pos == SourcePos("<query>", 3, 3)
    assert parsed.conditions[0].pos == SourcePos("<query>", 4, 9)


def test_whitespace_of_any_kind_separates_words() -> None:
    parsed = q("can\tanyone\u00a0kms:Decrypt\r\n")
    assert parsed == dataclasses.replace(q("can anyone kms:Decrypt"), text=parsed.text)


def test_file_name_in_positions() -> None:
    assert q("can anyone kms:Decrypt").pos.file == "<query>"
    assert parse_query("can anyone kms:Decrypt", "q.txt").who.pos == SourcePos("q.txt", 1, 5)


# --------------------------------------------------------------------------
# errors: exact messages and columns

ERRORS = [
    # structure
    ("", "<query>:1:1: error: empty query: expected `can`"),
    ("anyone kms:Decrypt", "<query>:1:1: error: unexpected `anyone`: expected `can`"),
    (
        "can",
        "<query>:1:4: error: expected `anyone`, `any principal`, `principal` or `service` after `can`",
    ),
    (
        "can anyon kms:Decrypt",
        "<query>:1:5: error: unexpected `anyon`: expected `anyone`, `any principal`, `principal` or `service` (did you mean `anyone`?)",
    ),
    (
        "can Anyone kms:Decrypt",
        "<query>:1:5: error: unexpected `Anyone`: expected `anyone`, `any principal`, `principal` or `service` (did you mean `anyone`?)",
    ),
    ("can any kms:Decrypt", "<query>:1:9: error: unexpected `kms:Decrypt`: expected `principal`"),
    ("can any", "<query>:1:8: error: expected `principal` after `any`"),
    (
        "can any principal outside",
        "<query>:1:26: error: expected `account` or `org` after `outside`",
    ),
    (
        "can any principal outsid account 111122223333 kms:Decrypt",
        "<query>:1:19: error: unexpected `outsid`: expected `outside`, `in`, `ever` or an action (did you mean `outside`?)",
    ),
    ("can any principal in account", "<query>:1:29: error: expected an account id after `account`"),
    (
        "can any principal in account 111122223333,",
        "<query>:1:43: error: expected an account id after `,`",
    ),
    (
        "can any principal in account 111122223333 444455556666 kms:Decrypt",
        "<query>:1:43: error: missing `,` before `444455556666`",
    ),
    ("can principal", "<query>:1:14: error: expected a principal ARN or pattern after `principal`"),
    ("can service", "<query>:1:12: error: expected a service principal name after `service`"),
    ("can anyone", "<query>:1:11: error: expected `ever` or an action after `anyone`"),
    ("can anyone ever", "<query>:1:16: error: expected an action after `ever`"),
    (
        "can anyone Decrypt",
        "<query>:1:12: error: unexpected `Decrypt`: expected `ever` or an action (an action needs its service prefix, as in `kms:Decrypt`)",
    ),
    (
        "can anyone on key alias/x",
        "<query>:1:12: error: unexpected `on`: expected `ever` or an action",
    ),
    ("can anyone kms:Decrypt ,", "<query>:1:25: error: expected an action after `,`"),
    (
        "can anyone kms:Decrypt, , kms:Encrypt",
        "<query>:1:25: error: unexpected `,`: expected an action",
    ),
    ("can anyone kms:Decrypt kms:Encrypt", "<query>:1:24: error: missing `,` before `kms:Encrypt`"),
    ("can anyone kms:Decrypt key alias/x", "<query>:1:24: error: missing `on` before `key`"),
    ("can anyone kms:Decrypt on", "<query>:1:26: error: expected `key` or `bucket` after `on`"),
    (
        "can anyone kms:Decrypt on table x",
        "<query>:1:27: error: unexpected `table`: expected `key` or `bucket`",
    ),
    (
        "can anyone kms:Decrypt on key",
        "<query>:1:30: error: expected a key ARN, key id or alias after `key`",
    ),
    (
        "can anyone s3:GetObject on bucket",
        "<query>:1:34: error: expected a bucket ARN after `bucket`",
    ),
    (
        "can anyone kms:Decrypt on key alias/x on key alias/y",
        "<query>:1:39: error: unexpected `on`: expected `where` or the end of the query",
    ),
    ('can anyone kms:Decrypt kms:x == "a"', "<query>:1:24: error: missing `where` before `kms:x`"),
    ("can anyone kms:Decrypt has kms:x", "<query>:1:24: error: missing `where` before `has`"),
    (
        'can anyone kms:Decrypt on key alias/x kms:x=="a"',
        "<query>:1:39: error: missing `where` before `kms:x`",
    ),
    (
        'can anyone kms:Decrypt where kms:x == "a" kms:y != "b"',
        "<query>:1:43: error: missing `and` before `kms:y`",
    ),
    (
        "can anyone kms:Decrypt where",
        "<query>:1:29: error: expected a condition key, `has` or `not has` after `where`",
    ),
    (
        'can anyone kms:Decrypt where x == "y"',
        "<query>:1:30: error: unexpected `x`: expected a condition key, `has` or `not has` (a condition key has a prefix, as in `kms:EncryptionContext:NAME`)",
    ),
    (
        "can anyone kms:Decrypt where kms:x",
        "<query>:1:35: error: expected `==`, `!=` or `like` after `kms:x`",
    ),
    (
        'can anyone kms:Decrypt where kms:x = "a"',
        "<query>:1:36: error: unexpected `=`: expected `==`, `!=` or `like` (did you mean `==`?)",
    ),
    (
        "can anyone kms:Decrypt where kms:x ==",
        "<query>:1:38: error: expected a double-quoted string after `==`",
    ),
    (
        "can anyone kms:Decrypt where kms:x == a",
        "<query>:1:39: error: unexpected `a`: expected a double-quoted string",
    ),
    (
        "can anyone kms:Decrypt where kms:x == 'a'",
        "<query>:1:39: error: unexpected `'a'`: expected a double-quoted string (strings use double quotes)",
    ),
    (
        "can anyone kms:Decrypt where not kms:x",
        "<query>:1:34: error: unexpected `kms:x`: expected `has`",
    ),
    (
        "can anyone kms:Decrypt where has",
        "<query>:1:33: error: expected a condition key after `has`",
    ),
    (
        'can anyone kms:Decrypt where kms:x == "a" and',
        "<query>:1:46: error: expected a condition key, `has` or `not has` after `and`",
    ),
    # strings
    ('can anyone kms:Decrypt where kms:x == "abc', "<query>:1:39: error: unterminated string"),
    ('can anyone kms:Decrypt where kms:x == "abc\\', "<query>:1:39: error: unterminated string"),
    (
        'can anyone kms:Decrypt where kms:x == "a\\qb"',
        "<query>:1:41: error: bad escape `\\q` in string",
    ),
    (
        'can anyone kms:Decrypt where kms:x == "\\u12"',
        "<query>:1:40: error: bad escape `\\u` in string",
    ),
    (
        'can anyone kms:Decrypt where kms:x == "a\tb"',
        "<query>:1:41: error: control character U+0009 in string: write it as `\\u0009`",
    ),
    # characters no word may hold
    (
        'can anyone kms:Decrypt where kms:x == "a" # note',
        "<query>:1:43: error: unexpected `#`: expected `and` or the end of the query (`#` starts a comment only in spec files)",
    ),
    (
        "can anyone kms:Decrypt\x0b!",
        "<query>:1:24: error: unexpected `!`: expected `,`, `on`, `where` or the end of the query",
    ),
    # values
    ("can anyone kms:Foo", "<query>:1:12: error: `kms:Foo` matches no KMS action"),
    (
        "can anyone kms:Decrpt",
        "<query>:1:12: error: `kms:Decrpt` matches no KMS action (did you mean `kms:Decrypt`?)",
    ),
    ("can anyone kms:Foo*", "<query>:1:12: error: `kms:Foo*` matches no KMS action"),
    (
        "can anyone kms:",
        "<query>:1:12: error: action `kms:` must be `SERVICE:NAME`, as in `kms:Decrypt`",
    ),
    (
        "can anyone :Decrypt",
        "<query>:1:12: error: action `:Decrypt` must be `SERVICE:NAME`, as in `kms:Decrypt`",
    ),
    (
        "can anyone iam:PassRole",
        "<query>:1:12: error: `iam:PassRole` is not supported: a query asks about `kms:` actions, or `s3:GetObject` and `s3:PutObject` on a bucket (reads and writes under SSE-KMS)",
    ),
    (
        "can anyone s3:ListBucket on bucket arn:aws:s3:::reports",
        "<query>:1:12: error: `s3:ListBucket` is not supported: a query asks about `kms:` actions, or `s3:GetObject` and `s3:PutObject` on a bucket (reads and writes under SSE-KMS)",
    ),
    (
        "can anyone s3:GetObject",
        "<query>:1:12: error: `s3:GetObject` needs `on bucket arn:aws:s3:::NAME`",
    ),
    (
        "can anyone s3:GetObject on key alias/x",
        "<query>:1:12: error: `s3:GetObject` needs `on bucket arn:aws:s3:::NAME`",
    ),
    (
        "can any principal in account 123 kms:Decrypt",
        "<query>:1:30: error: account id `123` must be 12 digits",
    ),
    (
        "can any principal in account 1111222233334 kms:Decrypt",
        "<query>:1:30: error: account id `1111222233334` must be 12 digits",
    ),
    (
        "can any principal outside org o-abc kms:Decrypt",
        "<query>:1:31: error: organization id `o-abc` must be `o-` and 10 to 32 lower-case letters or digits",
    ),
    (
        "can any principal outside org O-ABCDEFGHIJ kms:Decrypt",
        "<query>:1:31: error: organization id `O-ABCDEFGHIJ` must be `o-` and 10 to 32 lower-case letters or digits",
    ),
    (
        "can principal 111122223333 kms:Decrypt",
        "<query>:1:15: error: principal `111122223333` must be an ARN or ARN pattern, or `*` (did you mean `arn:aws:iam::111122223333:root`?)",
    ),
    (
        "can principal role/Admin kms:Decrypt",
        "<query>:1:15: error: principal `role/Admin` must be an ARN or ARN pattern, or `*`",
    ),
    (
        "can principal ever kms:Decrypt",
        "<query>:1:15: error: principal `ever` must be an ARN or ARN pattern, or `*`",
    ),
    (
        "can service cloudtrail kms:Decrypt",
        "<query>:1:13: error: service principal `cloudtrail` must be a name such as `cloudtrail.amazonaws.com` (did you mean `cloudtrail.amazonaws.com`?)",
    ),
    (
        "can anyone kms:Decrypt on key 1234",
        "<query>:1:31: error: key `1234` must be a key ARN, key id, `alias/NAME` or alias ARN",
    ),
    (
        f"can anyone kms:Decrypt on key arn:aws:kms:us-east-1:{A1}:key/nope",
        f"<query>:1:31: error: key `arn:aws:kms:us-east-1:{A1}:key/nope` must be a key ARN, key id, `alias/NAME` or alias ARN",
    ),
    (
        "can anyone kms:Decrypt on key alias/",
        "<query>:1:31: error: key `alias/` must be a key ARN, key id, `alias/NAME` or alias ARN",
    ),
    (
        "can anyone s3:GetObject on bucket reports",
        "<query>:1:35: error: bucket `reports` must be an S3 bucket ARN such as `arn:aws:s3:::NAME` (did you mean `arn:aws:s3:::reports`?)",
    ),
    ("can anyone kms:Decrypt on bucket arn:aws:s3:::reports", None),  # two errors, below
    (
        'can anyone kms:Decrypt where kms:\x01 == "a"',
        "<query>:1:30: error: condition key `kms:\\x01` must be `PREFIX:NAME`, as in `kms:EncryptionContext:Dept`",
    ),
    # multi-line input: real line and column
    (
        "can anyone\n  kms:Decrpt",
        "<query>:2:3: error: `kms:Decrpt` matches no KMS action (did you mean `kms:Decrypt`?)",
    ),
    (
        "can anyone\n  kms:Decrypt where\n\n",
        "<query>:2:20: error: expected a condition key, `has` or `not has` after `where`",
    ),
]


@pytest.mark.parametrize(("text", "message"), [e for e in ERRORS if e[1] is not None])
def test_error_messages(text: str, message: str) -> None:
    assert the_error(text) == message


def test_on_bucket_needs_s3_actions() -> None:
    assert errors_of("can anyone kms:Decrypt on bucket arn:aws:s3:::reports") == [
        "<query>:1:12: error: `kms:Decrypt` cannot be asked `on bucket`: ask s3:GetObject or s3:PutObject",
        "<query>:1:24: error: `on bucket` needs s3:GetObject or s3:PutObject",
    ]


def test_every_value_problem_is_reported_in_order() -> None:
    text = 'can any principal in account 1, 2 kms:Foo, s3:GetObject on key nope where x:\x02 == "a"'
    assert errors_of(text, "q") == [
        "q:1:30: error: account id `1` must be 12 digits",
        "q:1:33: error: account id `2` must be 12 digits",
        "q:1:35: error: `kms:Foo` matches no KMS action",
        "q:1:44: error: `s3:GetObject` needs `on bucket arn:aws:s3:::NAME`",
        "q:1:64: error: key `nope` must be a key ARN, key id, `alias/NAME` or alias ARN",
        "q:1:75: error: condition key `x:\\x02` must be `PREFIX:NAME`, as in `kms:EncryptionContext:Dept`",
    ]


def test_keywords_are_case_sensitive() -> None:
    with pytest.raises(InputError):
        q("CAN anyone kms:Decrypt")
    with pytest.raises(InputError):
        q("can anyone kms:Decrypt WHERE has a:b")


# --------------------------------------------------------------------------
# the transformer fails loudly on grammar drift


def test_every_grammar_rule_has_a_builder() -> None:
    names = {r.alias or r.origin.name for r in _parser().rules}
    rules = {str(n) for n in names if not str(n).startswith("_")}
    assert rules, "no rules read from the grammar"
    assert all(callable(getattr(_Build, n, None)) for n in rules), sorted(rules)


def test_unknown_rule_raises() -> None:
    build = _Build(Where("", "<query>"))
    with pytest.raises(AssertionError, match="grammar drift"):
        build.transform(Tree("mystery", []))


# --------------------------------------------------------------------------
# hypothesis: totality and the round trip


def _assert_inside(exc: InputError, text: str) -> None:
    """Every diagnostic points inside the text (or just past its end)."""
    lines = text.split("\n")
    assert exc.diagnostics
    for d in exc.diagnostics:
        assert 1 <= d.pos.line <= len(lines)
        assert 1 <= d.pos.col <= len(lines[d.pos.line - 1]) + 1
        assert d.message and not d.message[0].isupper() and not d.message.endswith(".")


def _parse_or_input_error(text: str) -> Query | None:
    try:
        parsed = parse_query(text)
    except InputError as exc:
        _assert_inside(exc, text)
        return None
    # anything accepted reads back the same from its canonical spelling
    canonical = render_query(parsed)
    assert parse_query(canonical) == dataclasses.replace(parsed, text=canonical)
    return parsed


@given(st.text())
@example("can")
@example('"')
@example('can anyone kms:Decrypt where k:x == "\\')
@example("\x0c")
def test_arbitrary_text_raises_only_input_error(text: str) -> None:
    _parse_or_input_error(text)


WORDS = [
    "can", "anyone", "any", "principal", "service", "outside", "in", "account", "org", "ever",
    "on", "key", "bucket", "where", "and", "not", "has", "like", "==", "!=", "=", ",", "#",
    '"', '"a"', '"\\q"', "'a'", "kms:Decrypt", "kms:Gen*", "kms:Foo", "s3:GetObject", "iam:X",
    A1, "123", "o-abcdefghij", ROLE, "*", "cloudtrail.amazonaws.com", "alias/x", KEY_ARN, KEY_ID,
    "arn:aws:s3:::reports", "kms:EncryptionContext:x", "aws:PrincipalTag/t", "x", ":", "",
]  # fmt: skip
SEPARATORS = st.sampled_from([" ", " ", " ", "", ",", "\n", "\t"])


@st.composite
def soups(draw: st.DrawFn) -> str:
    words = draw(st.lists(st.sampled_from(WORDS), max_size=14))
    if draw(st.booleans()):
        words = ["can", *words]
    return "".join(w + draw(SEPARATORS) for w in words)


@given(soups())
@example("can anyone kms:Decrypt where has kms:EncryptionContext:x")
def test_token_soup_raises_only_input_error(text: str) -> None:
    _parse_or_input_error(text)


ACCOUNTS = st.from_regex(r"[0-9]{12}", fullmatch=True)
KMS_NAMES = sorted(i.name for i in catalog.kms_catalog().values())


@st.composite
def kms_actions(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(KMS_NAMES))
    cut = draw(st.integers(5, len(name)))
    # a prefix of a real name plus `*` always matches it; case is kept as written
    pattern = name if cut == len(name) else name[:cut] + "*"
    return draw(st.sampled_from([pattern, pattern.lower(), pattern.replace("kms:", "KMS:")]))


def whos() -> st.SearchStrategy[Who]:
    names = st.from_regex(r"[A-Za-z0-9+=,.@_*?-]{1,16}", fullmatch=True)
    arns = st.builds(
        lambda acct, kind, name: f"arn:aws:iam::{acct}:{kind}/{name}",
        ACCOUNTS | st.just("*"),
        st.sampled_from(["role", "user"]),
        names,
    )
    account_lists = st.lists(ACCOUNTS, min_size=1, max_size=3).map(tuple)
    iam = st.booleans()  # `any iam principal ...`
    return st.one_of(
        st.just(Who(WhoKind.ANYONE)),
        iam.map(lambda i: Who(WhoKind.ANY_PRINCIPAL, iam_only=i)),
        st.builds(
            lambda a, i: Who(WhoKind.OUTSIDE_ACCOUNTS, accounts=a, iam_only=i), account_lists, iam
        ),
        st.builds(
            lambda a, i: Who(WhoKind.IN_ACCOUNTS, accounts=a, iam_only=i), account_lists, iam
        ),
        st.builds(
            lambda o, i: Who(WhoKind.OUTSIDE_ORG, org=o, iam_only=i),
            st.from_regex(r"o-[a-z0-9]{10,32}", fullmatch=True),
            iam,
        ),
        (arns | st.just("*")).map(lambda p: Who(WhoKind.PRINCIPAL, pattern=p)),
        st.from_regex(r"[a-z0-9-]{1,12}\.amazonaws\.com", fullmatch=True).map(
            lambda s: Who(WhoKind.SERVICE, pattern=s)
        ),
    )


def key_refs() -> st.SearchStrategy[str]:
    ids = st.uuids().map(str) | st.from_regex(r"mrk-[0-9a-f]{32}", fullmatch=True)
    aliases = st.from_regex(r"alias/[A-Za-z0-9/_-]{1,20}", fullmatch=True)
    arn = "arn:aws:kms:us-west-2:111122223333:"
    return ids | aliases | ids.map(lambda i: f"{arn}key/{i}") | aliases.map(lambda a: arn + a)


# characters a condition key may hold after its `:` (no space, control, `,` `"` `#` `=` `!`)
KEY_CHARS = st.characters(
    blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp"), blacklist_characters=',"#=!'
)


def conditions() -> st.SearchStrategy[QueryCond]:
    keys = st.builds(
        lambda prefix, rest: f"{prefix}:{rest}",
        st.sampled_from(["kms", "aws", "s3", "kms:EncryptionContext"]),
        st.text(KEY_CHARS, min_size=1, max_size=12),
    )
    compare = st.builds(
        QueryCond, keys, st.sampled_from([CondOp.EQ, CondOp.NE, CondOp.LIKE]), st.text()
    )
    presence = st.builds(QueryCond, keys, st.sampled_from([CondOp.HAS, CondOp.NOT_HAS]))
    return compare | presence


@st.composite
def queries(draw: st.DrawFn) -> Query:
    bucket = draw(st.booleans())
    if bucket:
        name = draw(st.from_regex(r"[a-z0-9][a-z0-9.-]{1,20}[a-z0-9]", fullmatch=True))
        target: Target | None = Target("bucket", f"arn:aws:s3:::{name}")
        actions = st.sampled_from(["s3:GetObject", "s3:PutObject", "S3:getobject"])
    else:
        target = draw(st.none() | key_refs().map(lambda r: Target("key", r)))
        actions = kms_actions()
    return Query(
        who=draw(whos()),
        actions=tuple(draw(st.lists(actions, min_size=1, max_size=4))),
        ever=draw(st.booleans()),
        target=target,
        conditions=tuple(draw(st.lists(conditions(), max_size=3))),
    )


@given(queries())
def test_round_trip(query: Query) -> None:
    text = render_query(query)
    assert parse_query(text) == dataclasses.replace(query, text=text)


def _respace(text: str, space: str) -> str:
    """`text` with every space outside strings replaced by `space`."""
    out, in_string, escaped = [], False, False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            out.append(ch)
        else:
            in_string = ch == '"'
            out.append(space if ch == " " else ch)
    return "".join(out)


@given(queries(), st.sampled_from(["\n", "  ", "\t\n  ", "\u00a0"]))
def test_round_trip_with_other_spacing(query: Query, space: str) -> None:
    # the same query spread over lines and spaces means the same thing
    text = _respace(render_query(query), space)
    assert dataclasses.replace(parse_query(text), text="") == query

"""Golden and property tests for `kmsprove.evaluate.match` (R3.6, R6.2-R6.4, R6.10)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import example, given, settings
from hypothesis import strategies as st

from kmsprove.evaluate.match import (
    Substituted,
    arn_like,
    binary,
    date,
    equals_ignore_case,
    glob_like,
    number,
    substitute,
    substitute_resource,
)
from kmsprove.request import Context

KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
CTX = Context.of(
    {"aws:username": "bob", "aws:PrincipalAccount": "111122223333", "aws:TagKeys": ["a"]}
)


def reference_glob(pattern: str, value: str, literal: frozenset[int] = frozenset()) -> bool:
    """Dynamic-programming reference: ok[i][j] = pattern[:i] matches value[:j]."""
    ok = [[False] * (len(value) + 1) for _ in range(len(pattern) + 1)]
    ok[0][0] = True
    for i, c in enumerate(pattern, 1):
        star = c == "*" and i - 1 not in literal
        one = c == "?" and i - 1 not in literal
        ok[i][0] = ok[i - 1][0] and star
        for j in range(1, len(value) + 1):
            if star:
                ok[i][j] = ok[i - 1][j] or ok[i][j - 1]
            else:
                ok[i][j] = ok[i - 1][j - 1] and (one or c == value[j - 1])
    return ok[len(pattern)][len(value)]


# ---------------------------------------------------------------- globs (R6.2)


def test_r6_2_glob_golden() -> None:
    assert glob_like("kms:Gen*", "kms:GenerateDataKey")
    assert not glob_like("kms:Gen*", "kms:generateDataKey")
    assert glob_like("kms:Gen*", "kms:generateDataKey", ignore_case=True)  # actions, R3.6
    assert glob_like("", "")
    assert not glob_like("", "a")
    assert glob_like("***", "")
    assert glob_like("a?c", "a\nc")  # `?` is any one character, newlines included


def test_r6_2_ignore_case_folds_per_character() -> None:
    assert equals_ignore_case("Straße", "STRAßE")
    assert not equals_ignore_case("Straße", "STRASSE")  # one character never becomes two
    assert equals_ignore_case("ſ", "S")  # long s folds like Java's equalsIgnoreCase


@settings(max_examples=400, deadline=None)
@given(st.text("ab*?", max_size=8), st.text("ab*?", max_size=8))
@example("a*b*a", "aabba")
@example("*?", "")
def test_r6_2_glob_agrees_with_reference(pattern: str, value: str) -> None:
    assert glob_like(pattern, value) == reference_glob(pattern, value)


@settings(max_examples=200, deadline=None)
@given(st.text("aB*?", max_size=8), st.text("Ab", max_size=8))
def test_r6_2_glob_ignore_case_agrees_with_reference(pattern: str, value: str) -> None:
    expected = reference_glob(pattern.lower(), value.lower())
    assert glob_like(pattern, value, ignore_case=True) == expected


@settings(max_examples=300, deadline=None)
@given(st.text("ab*?", max_size=8), st.text("ab*?", max_size=8), st.data())
def test_r6_10_literal_wildcards_agree_with_reference(
    pattern: str, value: str, data: st.DataObject
) -> None:
    literal = frozenset(data.draw(st.sets(st.integers(0, max(len(pattern) - 1, 0)))))
    marked = Substituted(pattern, literal)
    assert glob_like(marked, value) == reference_glob(pattern, value, literal)


@given(st.text("ab*?:", max_size=10))
def test_r6_10_fully_literal_pattern_matches_only_itself(text: str) -> None:
    marked = Substituted(text, frozenset(range(len(text))))
    assert glob_like(marked, text)
    assert not glob_like(marked, text + "a")


# ---------------------------------------------------------------- ARNs (R6.3)

FIELD = st.text("ab*?", max_size=4)
VALUE_FIELD = st.text("ab", max_size=4)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(FIELD, min_size=6, max_size=6),
    st.lists(VALUE_FIELD, min_size=5, max_size=5),
    st.text("ab:", max_size=6),
)
def test_r6_3_arn_like_is_field_wise(pattern: list[str], value: list[str], resource: str) -> None:
    """Equal to globbing each of the six fields; so no wildcard crosses a field."""
    fields = [*value, resource]
    expected = all(reference_glob(p, v) for p, v in zip(pattern, fields, strict=True))
    assert arn_like(":".join(pattern), ":".join(fields)) == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(VALUE_FIELD, min_size=6, max_size=6), st.integers(0, 4), st.text("c", min_size=1))
def test_r6_3_star_never_crosses_a_colon(fields: list[str], at: int, extra: str) -> None:
    """The shape of AWS's R6.3 example: a `*` that must absorb `field:extra` to match."""
    pattern = ":".join([*fields[:at], "*", *fields[at + 1 :]])
    value = ":".join([*fields[: at + 1], extra, *fields[at + 1 :]])
    assert glob_like(pattern, value)  # StringLike: `*` crosses `:`
    assert not arn_like(pattern, value)  # ArnLike: it stays in its field


def test_r6_3_golden() -> None:
    assert arn_like("arn:aws:kms:*:111122223333:key/*", KEY)
    assert arn_like("arn:aws:kms:us-east-1:111122223333:key/1234abcd-*", KEY)
    assert not arn_like("arn:aws:kms:*:*", KEY)  # fewer than six fields
    assert not arn_like("ARN:aws:kms:*:111122223333:key/*", KEY)  # case-sensitive
    assert arn_like("*", "anything")


# ---------------------------------------------------------------- typed values (R6.4)


def test_r6_4_number_parsing() -> None:
    assert number("10") == number("10.0") == Decimal(10)
    assert number("-.5") == Decimal("-0.5")
    assert number("1E2") == Decimal(100)
    for bad in ("", "ten", "NaN", "inf", "Infinity", " 1", "1 ", "1_000", "0x10", "١٢"):
        assert number(bad) is None, bad


def test_r6_4_date_parsing() -> None:
    assert date("1970-01-01T00:00:00Z") == 0
    assert date("2020-01-01T00:00:00Z") == date("1577836800") == date("2020-01-01")
    assert date("2020-01-01T00:00:00.25Z") == Decimal("1577836800.25")
    assert date("-1") == -1
    for bad in ("", "2020-13-01", "2020-01-01T25:00:00Z", "tomorrow", "1e9", "2020-01-01Z"):
        assert date(bad) is None, bad
    # before year 1 in UTC: still a number, no OverflowError
    assert date("0001-01-01T00:00:00+23:59") == date("0001-01-01T00:00:00Z") - 86340


def test_r6_4_binary_parsing() -> None:
    assert binary("QUJD") == b"ABC"
    assert binary("") == b""
    for bad in ("QUJ", "QU JD", "Q!JD", "é"):
        assert binary(bad) is None, bad


# ---------------------------------------------------------------- variables (R6.10)


def test_r6_10_substitute() -> None:
    assert substitute("home/${aws:username}/", CTX) == "home/bob/"
    assert substitute("${aws:PrincipalTag/team, 'none'}", CTX) == "none"
    assert substitute("${aws:PrincipalTag/team}", CTX) is None  # unresolved
    assert substitute("${aws:TagKeys}", CTX) is None  # multi-valued: not a variable
    assert substitute("${aws:TagKeys, 'd'}", CTX) == "d"
    assert substitute("plain", CTX) == "plain"
    assert substitute("${aws:username", CTX) == "${aws:username"  # not variable syntax
    assert substitute("${aws:username, no-quotes}", CTX) == "${aws:username, no-quotes}"
    assert substitute("$${$}${aws:username}", CTX) == "$$bob"


def test_r6_10_substitute_marks_literal_wildcards() -> None:
    out = substitute("a${*}b${?}*", CTX)
    assert out == "a*b?*"
    assert isinstance(out, Substituted)
    assert out.literal == frozenset({1, 3})
    assert glob_like(out, "a*b?zzz")
    assert not glob_like(out, "axb?")
    assert not glob_like(out, "a*bx")


def test_r6_10_substitute_resource() -> None:
    entry = "arn:aws:s3:::bucket/${aws:username}/*"
    assert substitute_resource(entry, CTX) == "arn:aws:s3:::bucket/bob/*"
    # a variable before the resource part is not substituted: the entry matches nothing
    assert substitute_resource("arn:aws:kms:us-east-1:${aws:PrincipalAccount}:key/*", CTX) is None
    assert substitute_resource("arn:aws:kms:us-east-1:111122223333:key/${aws:x}", CTX) is None
    # `${*}` is the character, so this names a key literally called `*`: no real key
    literal = substitute_resource("arn:aws:kms:us-east-1:111122223333:key/${*}", CTX)
    assert literal is not None
    assert not arn_like(literal, KEY)
    assert arn_like(literal, "arn:aws:kms:us-east-1:111122223333:key/*")
    # colons inside a variable name do not count as ARN separators
    many = "arn:aws:s3:::b/${aws:username}/${aws:username}"
    assert substitute_resource(many, CTX) == "arn:aws:s3:::b/bob/bob"


def test_r6_10_substituted_survives_copy() -> None:
    import copy
    import pickle

    marked = Substituted("a*", frozenset({1}))
    for twin in (copy.deepcopy(marked), pickle.loads(pickle.dumps(marked))):
        assert isinstance(twin, Substituted)
        assert not glob_like(twin, "ab")
        assert glob_like(twin, "a*")

"""Syntax stage, the query language's diagnostics: lark's syntax errors as one friendly
message each, and the checks on every value word (account ids, actions, targets,
condition keys) that the grammar lexes broadly on purpose (grammar/query.lark).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import NamedTuple

from kmsprove import catalog
from kmsprove.arn import KEY_ID_RE, PARTITIONS, REGION_RE
from kmsprove.ast import Query
from kmsprove.errors import Diagnostic, SourcePos, error
from kmsprove.syntax.lark_standalone import (
    Token,
    UnexpectedCharacters,
    UnexpectedInput,
    UnexpectedToken,
)


@dataclass(frozen=True, slots=True)
class Where:
    """The text being parsed, and how its offsets map to the user's file."""

    text: str
    file: str
    line: int = 1  # the file line the text starts on
    shift: int = 0  # columns before the text on that line (a spec's `expect ...:`)

    def at(self, offset: int) -> SourcePos:
        lines = self.text.count("\n", 0, offset)
        col = offset - (self.text.rfind("\n", 0, offset) + 1) + 1
        return SourcePos(self.file, self.line + lines, col + (self.shift if lines == 0 else 0))

    def end(self) -> SourcePos:
        # lark reports -1 at the end of input; point just past the last word
        return self.at(len(self.text.rstrip()))


# Terminals in the order messages list them; a keyword is named by itself.
# fmt: off
_ORDER = (
    "CAN", "ANYONE", "ANY", "PRINCIPAL", "SERVICE", "OUTSIDE", "IN", "ACCOUNT", "ORG", "PATTERN",
    "SERVICE_NAME", "ACCOUNT_ID", "ORG_ID", "EVER", "ACTION", "COMMA", "ON", "KEY", "BUCKET",
    "KEY_REF", "BUCKET_REF", "WHERE", "COND_KEY", "HAS", "NOT", "COMPARE", "STRING", "AND", "$END",
)
_NAMES = {
    "ANY": "`any principal`", "PATTERN": "a principal ARN or pattern",
    "SERVICE_NAME": "a service principal name", "ACCOUNT_ID": "an account id",
    "ORG_ID": "an organization id", "ACTION": "an action", "COMMA": "`,`",
    "KEY_REF": "a key ARN, key id or alias", "BUCKET_REF": "a bucket ARN",
    "COND_KEY": "a condition key", "NOT": "`not has`", "COMPARE": "`==`, `!=` or `like`",
    "STRING": "a double-quoted string", "$END": "the end of the query",
}
# fmt: on
_KEYWORDS = frozenset(n.lower() for n in _ORDER if n.isalpha() and n not in _NAMES)
WORD = re.compile(r'"(?:[^"\\\n]|\\.)*"?|[^\s,"#]+|[\s\S]')
_CONDITION_AHEAD = re.compile(r'([^\s,"#=!]*:[^\s,"#=!]*)\s*(?:==|!=|like(?![^\s,"#]))')


def syntax_error(exc: UnexpectedInput, where: Where) -> Diagnostic:
    expected = _accepted(exc)
    prev = _previous(exc)
    if isinstance(exc, UnexpectedToken) and exc.token.type == "$END":
        if prev is None:
            return error(where.end(), "empty query: expected `can`")
        return error(where.end(), f"expected {_one_of(expected)} after `{short(prev)}`")
    offset = exc.token.start_pos if isinstance(exc, UnexpectedToken) else exc.pos_in_stream
    offset = offset or 0
    text = where.text
    if isinstance(exc, UnexpectedCharacters) and text[offset] == '"':
        bad, message = _string_problem(text, offset)
        return error(where.at(bad), message)
    word = WORD.match(text, offset).group(0)  # type: ignore[union-attr]
    return error(where.at(offset), _unexpected(word, text, offset, expected, prev))


def _accepted(exc: UnexpectedInput) -> set[str]:
    parser = getattr(exc, "interactive_parser", None)
    if parser is not None:
        return set(parser.accepts())
    return set(getattr(exc, "expected", None) or getattr(exc, "allowed", None) or ())


def _previous(exc: UnexpectedInput) -> Token | None:
    # when the contextual lexer fails, lark saves the last good token in
    # token_history; the lexer state then holds the token that failed
    history = getattr(exc, "token_history", None)
    if history:
        return history[-1]  # type: ignore[no-any-return]
    parser = getattr(exc, "interactive_parser", None)
    state = parser.lexer_thread.state if parser is not None else None
    return state.last_token if state is not None else None


def _unexpected(word: str, text: str, offset: int, expected: set[str], prev: Token | None) -> str:
    cond = _CONDITION_AHEAD.match(text, offset)
    if cond or word in ("has", "not"):
        shown = cond.group(1) if cond else word
        for kw in ("WHERE", "AND"):
            if kw in expected:
                return f"missing `{kw.lower()}` before `{short(shown)}`"
    if "ON" in expected and word in ("key", "bucket"):
        return f"missing `on` before `{word}`"
    if "COMMA" in expected and prev is not None and _same_kind(prev, word):
        return f"missing `,` before `{short(word)}`"
    return f"unexpected {_shown(word)}: expected {_one_of(expected)}{_hint(word, expected)}"


def _same_kind(prev: Token, word: str) -> bool:
    """Would `word` continue the list `prev` is in (so a `,` is missing)?"""
    if prev.type == "ACTION":
        return ":" in word
    return prev.type == "ACCOUNT_ID" and word.isdigit()


def _hint(word: str, expected: set[str]) -> str:
    keywords = [n.lower() for n in expected if n.lower() in _KEYWORDS]
    close = difflib.get_close_matches(word.lower(), keywords, n=1)
    if close:
        return f" (did you mean `{close[0]}`?)"
    if word == "#":
        return " (`#` starts a comment only in spec files)"
    if word == "=" and "COMPARE" in expected:
        return " (did you mean `==`?)"
    if "ACTION" in expected and re.fullmatch(r"[A-Za-z0-9*?]+", word) and word not in _KEYWORDS:
        return f" (an action needs its service prefix, as in `kms:{word}`)"
    if "STRING" in expected and word.startswith("'"):
        return " (strings use double quotes)"
    if "COND_KEY" in expected and re.fullmatch(r"[A-Za-z0-9/_-]+", word):
        return " (a condition key has a prefix, as in `kms:EncryptionContext:NAME`)"
    return ""


_STRING_PART = re.compile(r'[^"\\\x00-\x1f]+|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})')


def _string_problem(text: str, start: int) -> tuple[int, str]:
    """Where and why the string opening at `start` is bad (the lexer refused it)."""
    i = start + 1
    while m := _STRING_PART.match(text, i):
        i = m.end()
    if text[i : i + 1] == "\\" and text[i + 1 : i + 2] not in ("", "\n"):
        return i, f"bad escape `{text[i : i + 2]}` in string"
    if text[i : i + 1] not in ("", "\n", "\\", '"'):
        return (
            i,
            f"control character U+{ord(text[i]):04X} in string: write it as `\\u{ord(text[i]):04x}`",
        )
    return start, "unterminated string"


def _one_of(names: set[str]) -> str:
    shown = [_NAMES.get(n, f"`{n.lower()}`") for n in _ORDER if n in names] or ["nothing more"]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]


def short(word: str) -> str:
    return word if len(word) <= 40 else word[:37] + "..."


def _shown(word: str) -> str:
    if len(word) == 1 and not (word.isprintable() and not word.isspace()):
        return f"character U+{ord(word):04X}"
    return f"`{short(word)}`"


# --------------------------------------------------------------------------
# value checks, after the transform: every problem, each at its word

_PARTITION = "(?:" + "|".join(PARTITIONS) + ")"
_ALIAS = r"alias/[A-Za-z0-9/_-]+"
_KEY_ID = KEY_ID_RE.pattern


class _Rule(NamedTuple):
    valid: str  # what a valid word matches
    message: str  # `{}` is the word
    fixable: str = ""  # what a word with an obvious fix matches
    fix: str = ""


_RULES = {
    "account": _Rule(r"\d{12}", "account id `{}` must be 12 digits"),
    "org": _Rule(
        r"o-[a-z0-9]{10,32}",
        "organization id `{}` must be `o-` and 10 to 32 lower-case letters or digits",
    ),
    # six `:`-separated fields of printable ASCII ([!-9;-~] is that without `:`)
    "principal": _Rule(
        r"\*|arn(?::[!-9;-~]*){4}:[!-~]*",
        "principal `{}` must be an ARN or ARN pattern, or `*`",
        *(r"\d{12}", "arn:aws:iam::{}:root"),
    ),
    "service": _Rule(
        r"[a-z0-9*?-]+(?:\.[a-z0-9*?-]+)+",
        "service principal `{}` must be a name such as `cloudtrail.amazonaws.com`",
        *(r"[a-z0-9-]+", "{}.amazonaws.com"),
    ),
    "key": _Rule(
        rf"{_KEY_ID}|{_ALIAS}|arn:{_PARTITION}:kms:{REGION_RE.pattern}:\d{{12}}:(?:key/{_KEY_ID}|{_ALIAS})",
        "key `{}` must be a key ARN, key id, `alias/NAME` or alias ARN",
    ),
    "bucket": _Rule(
        rf"arn:{_PARTITION}:s3:::[A-Za-z0-9][A-Za-z0-9._-]*",  # AWS docs use DOC-EXAMPLE-BUCKET
        "bucket `{}` must be an S3 bucket ARN such as `arn:aws:s3:::NAME`",
        *(r"[a-z0-9.-]+", "arn:aws:s3:::{}"),
    ),
    "condition": _Rule(
        r"[A-Za-z0-9-]+:[^\x00-\x20\x7f]+",
        "condition key `{}` must be `PREFIX:NAME`, as in `kms:EncryptionContext:Dept`",
    ),
}
_ACTION_RE = re.compile(r"([A-Za-z0-9-]+):([A-Za-z0-9*?]+)")
_S3_ACTIONS = ("s3:getobject", "s3:putobject")  # the composed SSE-KMS read and write


def value_problems(q: Query | None, words: list[tuple[str, str, SourcePos]]) -> list[Diagnostic]:
    out = []
    for role, word, pos in words:
        message = _check_action(word) if role == "action" else _check(role, word)
        if message is not None:
            out.append(error(pos, message))
    return out + (_target_problems(q, words) if q is not None else [])


def _check(role: str, word: str) -> str | None:
    rule = _RULES[role]
    # ASCII: `\d` must not accept other scripts' digits in an account id
    if re.fullmatch(rule.valid, word, re.ASCII):
        return None
    if rule.fixable and re.fullmatch(rule.fixable, word, re.ASCII):
        return f"{rule.message.format(word)} (did you mean `{rule.fix.format(word)}`?)"
    return rule.message.format(word)


def _check_action(word: str) -> str | None:
    m = _ACTION_RE.fullmatch(word)
    if m is None:
        return f"action `{word}` must be `SERVICE:NAME`, as in `kms:Decrypt`"
    service, name = m.group(1).lower(), m.group(2)
    if service == "kms":
        if catalog.expand(word):
            return None
        names = {i.short.lower(): i.name for i in catalog.kms_catalog().values()}
        close = difflib.get_close_matches(name.lower(), names, n=1)
        hint = f" (did you mean `{names[close[0]]}`?)" if close else ""
        return f"`{word}` matches no KMS action{hint}"
    if service == "s3" and word.lower() in _S3_ACTIONS:
        return None
    return (
        f"`{word}` is not supported: a query asks about `kms:` actions, "
        "or `s3:GetObject` and `s3:PutObject` on a bucket (reads and writes under SSE-KMS)"
    )


def _target_problems(q: Query, words: list[tuple[str, str, SourcePos]]) -> list[Diagnostic]:
    """`on bucket` asks the composed S3 question, so it takes S3 actions and only them."""
    actions = [(w, p) for role, w, p in words if role == "action"]
    s3 = [(w, p) for w, p in actions if w.lower().startswith("s3:")]
    kms = [(w, p) for w, p in actions if w.lower().startswith("kms:")]
    if q.target is not None and q.target.kind == "bucket":
        out = [
            error(p, f"`{w}` cannot be asked `on bucket`: ask s3:GetObject or s3:PutObject")
            for w, p in kms
        ]
        if not s3:
            out.append(error(q.target.pos, "`on bucket` needs s3:GetObject or s3:PutObject"))
        return out
    return [error(p, f"`{w}` needs `on bucket arn:aws:s3:::NAME`") for w, p in s3]

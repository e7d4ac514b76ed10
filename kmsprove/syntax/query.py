"""Syntax stage: query text -> `Query`; spec text -> `Expectation`s.

`parse_query` reads the query language of DESIGN.md with `grammar/query.lark`
(LALR, contextual lexer), builds the `kmsprove.ast.Query`, then checks every
value word (account ids, actions, targets, condition keys) and reports all
problems at once as a positioned `InputError`. `render_query` is its inverse:
`parse_query(render_query(q))` equals `q` for every valid `q`, so answers can
print a query the user can run again.

`Query.text` is the query as written, without surrounding space. `Query.pos`
is `can`; `Who`, `Target` and `QueryCond` positions are where that part starts
(`anyone`, `on`, the condition's first word).

A spec file (`kmsprove check`) holds one `expect yes: QUERY` or
`expect no: QUERY` per line. Blank lines and lines starting with `#` are
skipped, and a `#` outside a double-quoted string ends the query: a comment.
That is unambiguous because no word of the query language may hold `#`.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any, NamedTuple

import lark
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from kmsprove import catalog
from kmsprove.arn import KEY_ID_RE, PARTITIONS, REGION_RE
from kmsprove.ast import CondOp, Expectation, Query, QueryCond, Target, Who, WhoKind
from kmsprove.errors import Diagnostic, InputError, SourcePos, error
from kmsprove.resources import read_data


def parse_query(text: str, name: str = "<query>") -> Query:
    """The `Query` a text asks, or `InputError` with every problem positioned in it."""
    return _parse(_Where(text, name))


def parse_spec(text: str, name: str = "<spec>") -> tuple[Expectation, ...]:
    """Every expectation of a spec file, or `InputError` naming every bad line."""
    out: list[Expectation] = []
    diags: list[Diagnostic] = []
    # split on "\n" only, so line numbers agree with editors (splitlines also breaks at \x0c)
    for lineno, raw in enumerate(text.split("\n"), start=1):
        line = raw.removesuffix("\r")
        body = line.lstrip()
        if not body or body.startswith("#"):
            continue
        try:
            out.append(_spec_line(line, lineno, name))
        except InputError as exc:
            diags.extend(exc.diagnostics)
    if diags:
        raise InputError(diags)
    return tuple(out)


def render_query(q: Query) -> str:
    """Text that `parse_query` reads back as `q` (ignores `q.text` and positions)."""
    parts = ["can", _render_who(q.who)]
    if q.ever:
        parts.append("ever")
    parts.append(", ".join(q.actions))
    if q.target is not None:
        parts.append(f"on {q.target.kind} {q.target.ref}")
    if q.conditions:
        parts.append("where " + " and ".join(_render_cond(c) for c in q.conditions))
    return " ".join(parts)


def _render_who(w: Who) -> str:
    match w.kind:
        case WhoKind.ANYONE | WhoKind.ANY_PRINCIPAL:
            return str(w.kind.value)
        case WhoKind.OUTSIDE_ACCOUNTS | WhoKind.IN_ACCOUNTS:
            return f"any principal {w.kind.value} {','.join(w.accounts)}"
        case WhoKind.OUTSIDE_ORG:
            return f"any principal outside org {w.org}"
        case WhoKind.PRINCIPAL | WhoKind.SERVICE:
            return f"{w.kind.value} {w.pattern}"
    raise AssertionError(w.kind)


def _render_cond(c: QueryCond) -> str:
    if c.op in (CondOp.HAS, CondOp.NOT_HAS):
        return f"{c.op.value} {c.key}"
    # JSON escapes are the query language's string escapes
    return f"{c.key} {c.op.value} {json.dumps(c.value, ensure_ascii=False)}"


# --------------------------------------------------------------------------
# parsing


@dataclass(frozen=True, slots=True)
class _Where:
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


@cache
def _parser() -> lark.Lark:
    grammar = read_data("grammar", "query.lark")
    return lark.Lark(grammar, parser="lalr", lexer="contextual", maybe_placeholders=True)


def _parse(where: _Where) -> Query:
    try:
        tree = _parser().parse(where.text)
    except UnexpectedInput as exc:
        raise InputError([_syntax_error(exc, where)]) from None
    build = _Build(where)
    query = build.transform(tree)
    problems = _problems(query, build.words)
    if problems:
        raise InputError(problems)
    return query


class _Build(lark.Transformer[lark.Token, Query]):
    """Parse tree -> `Query`; records each value word to be checked afterwards."""

    def __init__(self, where: _Where) -> None:
        super().__init__()
        self.where = where
        self.words: list[tuple[str, str, SourcePos]] = []  # (role, word, position)

    def __default__(self, data: Any, children: Any, meta: Any) -> Any:
        raise AssertionError(f"grammar drift: no builder for rule {data!r}")

    def _pos(self, tok: lark.Token) -> SourcePos:
        return self.where.at(tok.start_pos or 0)

    def _word(self, role: str, tok: lark.Token) -> str:
        self.words.append((role, str(tok), self._pos(tok)))
        return str(tok)

    def start(self, kids: list[Any]) -> Query:
        can, who, ever, actions, target, conditions = kids
        text = self.where.text.strip()
        return Query(who, actions, ever is not None, target, conditions or (), text, self._pos(can))

    def anyone(self, kids: list[Any]) -> Who:
        return Who(WhoKind.ANYONE, pos=self._pos(kids[0]))

    def any_principal(self, kids: list[Any]) -> Who:
        return Who(WhoKind.ANY_PRINCIPAL, pos=self._pos(kids[0]))

    def outside_accounts(self, kids: list[Any]) -> Who:
        return Who(WhoKind.OUTSIDE_ACCOUNTS, accounts=kids[4], pos=self._pos(kids[0]))

    def in_accounts(self, kids: list[Any]) -> Who:
        return Who(WhoKind.IN_ACCOUNTS, accounts=kids[4], pos=self._pos(kids[0]))

    def outside_org(self, kids: list[Any]) -> Who:
        return Who(WhoKind.OUTSIDE_ORG, org=self._word("org", kids[4]), pos=self._pos(kids[0]))

    def principal(self, kids: list[Any]) -> Who:
        pattern = self._word("principal", kids[1])
        return Who(WhoKind.PRINCIPAL, pattern=pattern, pos=self._pos(kids[0]))

    def service(self, kids: list[Any]) -> Who:
        return Who(WhoKind.SERVICE, pattern=self._word("service", kids[1]), pos=self._pos(kids[0]))

    def accounts(self, kids: list[Any]) -> tuple[str, ...]:
        return tuple(self._word("account", t) for t in kids)

    def actions(self, kids: list[Any]) -> tuple[str, ...]:
        return tuple(self._word("action", t) for t in kids)

    def key_target(self, kids: list[Any]) -> Target:
        return Target("key", self._word("key", kids[2]), pos=self._pos(kids[0]))

    def bucket_target(self, kids: list[Any]) -> Target:
        return Target("bucket", self._word("bucket", kids[2]), pos=self._pos(kids[0]))

    def conditions(self, kids: list[Any]) -> tuple[QueryCond, ...]:
        return tuple(k for k in kids if isinstance(k, QueryCond))  # drops `where` and `and`

    def compare(self, kids: list[Any]) -> QueryCond:
        key, op, value = self._word("condition", kids[0]), CondOp(kids[1]), json.loads(kids[2])
        return QueryCond(key, op, value, pos=self._pos(kids[0]))

    def has(self, kids: list[Any]) -> QueryCond:
        not_, has, key = kids
        op = CondOp.HAS if not_ is None else CondOp.NOT_HAS
        return QueryCond(self._word("condition", key), op, pos=self._pos(not_ or has))


# --------------------------------------------------------------------------
# syntax errors: lark's exception -> one friendly diagnostic

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
_WORD = re.compile(r'"(?:[^"\\\n]|\\.)*"?|[^\s,"#]+|[\s\S]')
_CONDITION_AHEAD = re.compile(r'([^\s,"#=!]*:[^\s,"#=!]*)\s*(?:==|!=|like(?![^\s,"#]))')


def _syntax_error(exc: UnexpectedInput, where: _Where) -> Diagnostic:
    expected = _accepted(exc)
    prev = _previous(exc)
    if isinstance(exc, UnexpectedToken) and exc.token.type == "$END":
        if prev is None:
            return error(where.end(), "empty query: expected `can`")
        return error(where.end(), f"expected {_one_of(expected)} after `{_short(prev)}`")
    offset = exc.token.start_pos if isinstance(exc, UnexpectedToken) else exc.pos_in_stream
    offset = offset or 0
    text = where.text
    if isinstance(exc, UnexpectedCharacters) and text[offset] == '"':
        bad, message = _string_problem(text, offset)
        return error(where.at(bad), message)
    word = _WORD.match(text, offset).group(0)  # type: ignore[union-attr]
    return error(where.at(offset), _unexpected(word, text, offset, expected, prev))


def _accepted(exc: UnexpectedInput) -> set[str]:
    parser = getattr(exc, "interactive_parser", None)
    if parser is not None:
        return set(parser.accepts())
    return set(getattr(exc, "expected", None) or getattr(exc, "allowed", None) or ())


def _previous(exc: UnexpectedInput) -> lark.Token | None:
    # when the contextual lexer fails, lark saves the last good token in
    # token_history; the lexer state then holds the token that failed
    history = getattr(exc, "token_history", None)
    if history:
        return history[-1]  # type: ignore[no-any-return]
    parser = getattr(exc, "interactive_parser", None)
    state = parser.lexer_thread.state if parser is not None else None
    return state.last_token if state is not None else None


def _unexpected(
    word: str, text: str, offset: int, expected: set[str], prev: lark.Token | None
) -> str:
    cond = _CONDITION_AHEAD.match(text, offset)
    if cond or word in ("has", "not"):
        shown = cond.group(1) if cond else word
        for kw in ("WHERE", "AND"):
            if kw in expected:
                return f"missing `{kw.lower()}` before `{_short(shown)}`"
    if "ON" in expected and word in ("key", "bucket"):
        return f"missing `on` before `{word}`"
    if "COMMA" in expected and prev is not None and _same_kind(prev, word):
        return f"missing `,` before `{_short(word)}`"
    return f"unexpected {_shown(word)}: expected {_one_of(expected)}{_hint(word, expected)}"


def _same_kind(prev: lark.Token, word: str) -> bool:
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


def _short(word: str) -> str:
    return word if len(word) <= 40 else word[:37] + "..."


def _shown(word: str) -> str:
    if len(word) == 1 and not (word.isprintable() and not word.isspace()):
        return f"character U+{ord(word):04X}"
    return f"`{_short(word)}`"


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


def _problems(q: Query, words: list[tuple[str, str, SourcePos]]) -> list[Diagnostic]:
    out = []
    for role, word, pos in words:
        message = _check_action(word) if role == "action" else _check(role, word)
        if message is not None:
            out.append(error(pos, message))
    return out + _target_problems(q, words)


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


# --------------------------------------------------------------------------
# spec files

_EXPECT_RE = re.compile(r"expect[ \t]+(yes|no)[ \t]*:")
_PREFIX_RE = re.compile(r"(expect(?![^\s:]))?[ \t]*([^\s:]*)")


def _spec_line(line: str, lineno: int, name: str) -> Expectation:
    indent = len(line) - len(line.lstrip())
    here = SourcePos(name, lineno, indent + 1)
    m = _EXPECT_RE.match(line, indent)
    if m is None:
        col, message = _prefix_problem(line, indent)
        raise InputError.at(SourcePos(name, lineno, col + 1), message)
    end = _comment_start(line, m.end())
    if not line[m.end() : end].strip():
        prefix = f"expect {m.group(1)}:"
        raise InputError.at(
            SourcePos(name, lineno, m.end() + 1), f"expected a query after `{prefix}`"
        )
    query = _parse(_Where(line[m.end() : end], name, lineno, m.end()))
    return Expectation(m.group(1) == "yes", query, lineno, here)


def _prefix_problem(line: str, start: int) -> tuple[int, str]:
    """0-based column and message for a line that does not start `expect yes:`/`expect no:`."""
    m = _PREFIX_RE.match(line, start)
    assert m is not None  # every group may be empty
    expect, word = m.group(1), m.group(2)
    if expect is None:
        found = _WORD.match(line, start).group(0)  # type: ignore[union-attr]
        return start, f"expected `expect yes:` or `expect no:`, found `{_short(found)}`"
    if word not in ("yes", "no"):
        found = f", found `{_short(word)}`" if word else ""
        return m.start(2), f"expected `yes` or `no` after `expect`{found}"
    return m.end(2), f"missing `:` after `expect {word}`"


def _comment_start(line: str, start: int) -> int:
    """Where a trailing `# comment` starts (a `#` outside strings), or the line's end."""
    in_string = escaped = False
    for i in range(start, len(line)):
        ch = line[i]
        if escaped:
            escaped = False
        elif in_string and ch == "\\":
            escaped = True
        elif ch == '"':
            in_string = not in_string
        elif ch == "#" and not in_string:
            return i
    return len(line)

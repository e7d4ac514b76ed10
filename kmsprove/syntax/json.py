"""Syntax stage: text -> positioned JSON values.

Two parsers produce the same tree of `JNode`s:

- `grammar/json.lark` (lark, LALR) for documents up to `LARK_LIMIT` characters:
  policies, grant lists and ordinary world files; its parser is generated from the
  grammar (`kmsprove.syntax.lark_standalone`, by tools/generate_parsers.py);
- a scanner built on the standard library's C JSON scanner for bulk files
  (a 20 MB world with 50,000 grants), which the grammar parses too slowly
  (`json_bulk`). It positions every container and every scalar the same way, and
  reports the same positioned errors. The nodes are in `kmsprove.syntax.tree`.

A property test checks that both agree with each other and with `json.loads`.
"""

from __future__ import annotations

import json
import re
from functools import cache

from kmsprove.errors import Diagnostic, InputError, SourcePos, error
from kmsprove.syntax.json_bulk import parse_json_bulk
from kmsprove.syntax.lark_standalone import (
    Lark,
    Token,
    Tree,
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    load_parser,
)
from kmsprove.syntax.tree import (
    JArray,
    JBool,
    JMember,
    JNode,
    JNull,
    JNumber,
    JObject,
    JString,
    Source,
    bad_character_message,
    end_of_text,
    prev_nonspace,
    shorten,
    structure_problems,
)

LARK_LIMIT = 1_000_000  # characters; above this the bulk scanner is used


def decode_bytes(data: bytes, name: str) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        col = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        raise InputError.at(
            SourcePos(name, line, col), f"invalid UTF-8 byte `0x{data[exc.start]:02x}`"
        ) from None
    return text.removeprefix("\ufeff")


def parse_json(text: str, file: str = "<input>") -> JNode:
    """Parse JSON text into positioned nodes, or raise `InputError`."""
    if not text.strip():
        raise InputError.at(SourcePos(file, 1, 1), "empty file: expected a JSON value")
    if len(text) <= LARK_LIMIT:
        return _parse_lark(text, file)
    return parse_json_bulk(text, file)


# --------------------------------------------------------------------------
# the lark grammar


@cache
def _lark_parser() -> Lark:
    return load_parser("json")


def _unquote(tok: str) -> str:
    return json.loads(tok)  # type: ignore[no-any-return]


ParseTree = Tree[Token]


def _token(kid: ParseTree | Token) -> Token:
    """A child the grammar makes a token (a terminal); a tree there is grammar drift."""
    if not isinstance(kid, Token):
        raise AssertionError(f"grammar drift: expected a token, found rule {kid.data!r}")
    return kid


class _Builder:
    """Turns the lark tree into JNodes without recursion (deep input is legal JSON)."""

    def __init__(self, src: Source) -> None:
        self.src = src

    def build(self, root: ParseTree | Token) -> JNode:
        # post-order walk: every child is built before its parent
        done: dict[int, JNode] = {}
        stack: list[tuple[ParseTree | Token, bool]] = [(root, False)]
        while stack:
            item, expanded = stack.pop()
            if isinstance(item, Token):
                continue
            if not expanded:
                stack.append((item, True))
                stack.extend((c, False) for c in item.children if isinstance(c, Tree))
                continue
            done[id(item)] = self.node(item, done)
        if isinstance(root, Token):
            raise AssertionError("grammar drift: a bare token at the root")
        return done[id(root)]

    def node(self, t: ParseTree, done: dict[int, JNode]) -> JNode:
        kids = t.children
        at = _token(kids[0]).start_pos or 0 if kids else 0
        match t.data:
            case "string":
                return JString(self.src, at, _unquote(_token(kids[0])))
            case "number":
                return JNumber(self.src, at, _number(_token(kids[0])))
            case "true" | "false":
                return JBool(self.src, at, t.data == "true")
            case "null":
                return JNull(self.src, at)
            case "array":
                items = tuple(done[id(c)] for c in kids if isinstance(c, Tree))
                return JArray(self.src, at, items)
            case "object":
                members = []
                for pair in kids:
                    if isinstance(pair, Tree):
                        key, value = pair.children
                        key_tok = _token(key)
                        members.append(
                            JMember(_unquote(key_tok), key_tok.start_pos or 0, done[id(value)])
                        )
                return JObject(self.src, at, tuple(members))
            case "pair":
                return JNull(self.src, 0)  # placeholder, read through its object
        raise AssertionError(f"grammar drift: unexpected rule {t.data!r}")


def _number(tok: str) -> int | float:
    return int(tok) if re.fullmatch(r"-?\d+", tok) else float(tok)


def _parse_lark(text: str, file: str) -> JNode:
    try:
        tree = _lark_parser().parse(text)
    except UnexpectedInput as exc:
        raise InputError([_lark_error(exc, text, file)]) from None
    root = _Builder(Source(file, text)).build(tree)
    diags = list(structure_problems(root))
    if diags:
        raise InputError(diags)
    return root


def _lark_error(exc: UnexpectedInput, text: str, file: str) -> Diagnostic:
    if isinstance(exc, UnexpectedEOF) or getattr(exc, "line", -1) in (-1, None):
        return error(end_of_text(text.rstrip(), file), "unexpected end of file")
    pos = SourcePos(file, exc.line, exc.column)
    if isinstance(exc, UnexpectedCharacters):
        return error(pos, bad_character_message(text, exc.pos_in_stream or 0))
    assert isinstance(exc, UnexpectedToken)
    tok = exc.token
    if tok.type == "$END":
        return error(end_of_text(text.rstrip(), file), "unexpected end of file")
    expected = set(exc.expected)
    if tok.type in ("RBRACE", "RSQB") and prev_nonspace(text, tok.start_pos) == ",":
        return error(pos, "trailing comma: JSON allows no `,` before a closing bracket")
    if expected & {"COMMA", "RBRACE", "RSQB"} and tok.type in _VALUE_TOKENS:
        return error(pos, f"missing `,` before `{shorten(tok)}`")
    if "COLON" in expected:
        return error(pos, f"expected `:` after the member name, found `{shorten(tok)}`")
    return error(pos, f"unexpected `{shorten(tok)}`")


_VALUE_TOKENS = ("STRING", "NUMBER", "LBRACE", "LSQB", "TRUE", "FALSE", "NULL")

"""Syntax stage: query text -> `Query` (and a `who` alone).

`parse_query` reads the query language of DESIGN.md with `grammar/query.lark`
(LALR, contextual lexer; its parser is generated from the grammar,
`kmsprove.syntax.lark_standalone`, by tools/generate_parsers.py), builds the
`kmsprove.ast.Query`, then checks every value word (account ids, actions, targets,
condition keys) and reports all problems at once as a positioned `InputError`. `render_query` is its inverse:
`parse_query(render_query(q))` equals `q` for every valid `q`, so answers can
print a query the user can run again.

`Query.text` is the query as written, without surrounding space. `Query.pos`
is `can`; `Who`, `Target` and `QueryCond` positions are where that part starts
(`anyone`, `on`, the condition's first word).

Spec files are read by `kmsprove.syntax.spec`; the diagnostics (syntax errors and
value-word checks) are in `kmsprove.syntax.query_checks`.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any, cast

from kmsprove.ast import CondOp, Query, QueryCond, Target, Who, WhoKind
from kmsprove.errors import InputError, SourcePos
from kmsprove.syntax.lark_standalone import Lark, Token, Transformer, UnexpectedInput, load_parser
from kmsprove.syntax.query_checks import Where, syntax_error, value_problems


def parse_query(text: str, name: str = "<query>") -> Query:
    """The `Query` a text asks, or `InputError` with every problem positioned in it."""
    return parse_at(Where(text, name))


def parse_who(text: str, name: str = "<who>") -> tuple[Who, SourcePos | None]:
    """The `who` of the query language alone (`any principal outside account A`), and
    where `ever` follows it, if it does (a command that compares today says it cannot)."""
    where = Where(text, name)
    try:
        tree = _parser().parse(text, start="who_start")
    except UnexpectedInput as exc:
        raise InputError([syntax_error(exc, where)]) from None
    build = _Build(where)
    # the `who_start` rule's builder returns (Who, where `ever` is), not a Query
    who, ever = cast(tuple[Who, SourcePos | None], build.transform(tree))
    problems = value_problems(None, build.words)
    if problems:
        raise InputError(problems)
    return who, ever


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
    some = "any iam principal" if w.iam_only else "any principal"
    match w.kind:
        case WhoKind.ANYONE:
            return str(w.kind.value)
        case WhoKind.ANY_PRINCIPAL:
            return some
        case WhoKind.OUTSIDE_ACCOUNTS | WhoKind.IN_ACCOUNTS:
            return f"{some} {w.kind.value} {','.join(w.accounts)}"
        case WhoKind.OUTSIDE_ORG:
            return f"{some} outside org {w.org}"
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


@cache
def _parser() -> Lark:
    return load_parser("query")


def parse_at(where: Where) -> Query:
    """The query of `where` (a spec line's query is positioned in its file)."""
    try:
        tree = _parser().parse(where.text, start="start")
    except UnexpectedInput as exc:
        raise InputError([syntax_error(exc, where)]) from None
    build = _Build(where)
    query = build.transform(tree)
    problems = value_problems(query, build.words)
    if problems:
        raise InputError(problems)
    return query


class _Build(Transformer[Token, Query]):
    """Parse tree -> `Query`; records each value word to be checked afterwards."""

    def __init__(self, where: Where) -> None:
        super().__init__()
        self.where = where
        self.words: list[tuple[str, str, SourcePos]] = []  # (role, word, position)

    def __default__(self, data: Any, children: Any, meta: Any) -> Any:
        raise AssertionError(f"grammar drift: no builder for rule {data!r}")

    def _pos(self, tok: Token) -> SourcePos:
        return self.where.at(tok.start_pos or 0)

    def _word(self, role: str, tok: Token) -> str:
        self.words.append((role, str(tok), self._pos(tok)))
        return str(tok)

    def start(self, kids: list[Any]) -> Query:
        can, who, ever, actions, target, conditions = kids
        text = self.where.text.strip()
        return Query(who, actions, ever is not None, target, conditions or (), text, self._pos(can))

    def who_start(self, kids: list[Any]) -> tuple[Who, SourcePos | None]:
        who, ever = kids
        return who, None if ever is None else self._pos(ever)

    def anyone(self, kids: list[Any]) -> Who:
        return Who(WhoKind.ANYONE, pos=self._pos(kids[0]))

    def any_principal(self, kids: list[Any]) -> Who:
        return Who(WhoKind.ANY_PRINCIPAL, iam_only=kids[1] is not None, pos=self._pos(kids[0]))

    def outside_accounts(self, kids: list[Any]) -> Who:
        return Who(
            WhoKind.OUTSIDE_ACCOUNTS,
            accounts=kids[5],
            iam_only=kids[1] is not None,
            pos=self._pos(kids[0]),
        )

    def in_accounts(self, kids: list[Any]) -> Who:
        return Who(
            WhoKind.IN_ACCOUNTS,
            accounts=kids[5],
            iam_only=kids[1] is not None,
            pos=self._pos(kids[0]),
        )

    def outside_org(self, kids: list[Any]) -> Who:
        return Who(
            WhoKind.OUTSIDE_ORG,
            org=self._word("org", kids[5]),
            iam_only=kids[1] is not None,
            pos=self._pos(kids[0]),
        )

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

"""Syntax stage: spec files (`kmsprove check`) -> `Expectation`s.

One `expect yes: QUERY` or `expect no: QUERY` per line. Blank lines and lines starting
with `#` are skipped, and a `#` outside a double-quoted string ends the query: a
comment. That is unambiguous because no word of the query language may hold `#`.
"""

from __future__ import annotations

import re

from kmsprove.ast import Expectation
from kmsprove.errors import Diagnostic, InputError, SourcePos
from kmsprove.syntax.query import parse_at
from kmsprove.syntax.query_checks import WORD, Where, short


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
    query = parse_at(Where(line[m.end() : end], name, lineno, m.end()))
    return Expectation(m.group(1) == "yes", query, lineno, here)


def _prefix_problem(line: str, start: int) -> tuple[int, str]:
    """0-based column and message for a line that does not start `expect yes:`/`expect no:`."""
    m = _PREFIX_RE.match(line, start)
    assert m is not None  # every group may be empty
    expect, word = m.group(1), m.group(2)
    if expect is None:
        found = WORD.match(line, start).group(0)  # type: ignore[union-attr]
        return start, f"expected `expect yes:` or `expect no:`, found `{short(found)}`"
    if word not in ("yes", "no"):
        found = f", found `{short(word)}`" if word else ""
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

"""String, ARN and resource matching for the evaluator (R3.6, R6.2, R6.3, R6.10).

Twin: `kmsprove.encode.match` (Z3 regular expressions).
"""

from __future__ import annotations

import re
from functools import cache


@cache
def _glob_re(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def glob_like(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """StringLike: `*` any run (also empty, crossing `:` and `/`), `?` one character."""
    return _glob_re(pattern, ignore_case).fullmatch(value) is not None


def arn_like(pattern: str, value: str) -> bool:
    """ArnLike/ArnEquals and IP `Resource`: six fields globbed one by one (R6.3)."""
    if pattern == "*":
        return True
    p = pattern.split(":", 5)
    v = value.split(":", 5)
    if len(p) != 6 or len(v) != 6:
        return False
    return all(glob_like(a, b) for a, b in zip(p, v, strict=True))

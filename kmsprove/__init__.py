"""kmsprove: prove who can use an AWS KMS key.

Public API: `load_world`, `read` (any input format), `ask` (a query), `diff_files`,
`parse_query`, `Request`, `Context`, `Decision`, `complete_request`, imported on first
use, so importing the package loads no stage (and no z3); one request is decided by
`kmsprove.evaluate.evaluate` (the subpackage's name shadows an attribute here).
"""

from __future__ import annotations

import importlib
from typing import Any

_API = {
    "load_world": "kmsprove.inputs",
    "read": "kmsprove.inputs",
    "ask": "kmsprove.questions.ask",
    "diff_files": "kmsprove.questions.diff",
    "parse_query": "kmsprove.syntax.query",
    "Request": "kmsprove.request",
    "Context": "kmsprove.request",
    "Decision": "kmsprove.request",
    "complete_request": "kmsprove.evaluate.context",
}

__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(name)

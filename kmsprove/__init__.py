"""kmsprove: prove who can use an AWS KMS key.

Public API: `load_world`, `evaluate`, `Request`, `Context`, `Decision`,
`complete_request` (imported on first use, so each stage stays importable alone).
"""

from __future__ import annotations

import importlib
from typing import Any

_API = {
    "load_world": "kmsprove.inputs.world_file",
    "evaluate": "kmsprove.evaluate",
    "Request": "kmsprove.request",
    "Context": "kmsprove.request",
    "Decision": "kmsprove.request",
    "complete_request": "kmsprove.request",
}

__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(name)

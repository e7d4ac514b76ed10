"""Concrete evaluator: the reference semantics of kms-semantics.md, in plain Python.

Never imports z3 or `kmsprove.encode`; the encoder is its independent twin.
`evaluate` is imported on first use so the submodules stay importable alone.
"""

from __future__ import annotations

from typing import Any

__all__ = ["evaluate"]


def __getattr__(name: str) -> Any:
    if name == "evaluate":
        from kmsprove.evaluate.kms import evaluate

        return evaluate
    raise AttributeError(name)

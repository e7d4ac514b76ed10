"""Concrete evaluator: the reference semantics of kms-semantics.md, in plain Python.

Never imports z3 or `kmsprove.encode`; the encoder is its independent twin.
"""

from __future__ import annotations

from kmsprove.evaluate.authorize import evaluate

__all__ = ["evaluate"]

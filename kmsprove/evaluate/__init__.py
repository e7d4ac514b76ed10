"""Concrete evaluator: the reference semantics of kms-semantics.md, in plain Python.

`evaluate(world, request) -> Decision` routes one request: the composed S3 read
(`s3`), or the KMS procedure (`kms`, which hands what IAM alone decides to `iam`).
Never imports z3 or `kmsprove.encode`; the encoder is its independent twin.
"""

from __future__ import annotations

from kmsprove.evaluate.kms import evaluate_kms
from kmsprove.evaluate.s3 import evaluate_s3
from kmsprove.request import Decision, Request
from kmsprove.world import World

__all__ = ["evaluate"]


def evaluate(world: World, req: Request) -> Decision:
    """Allow or deny one request, with the reasons per layer (R1.13, R8)."""
    if req.action.lower().startswith("s3:"):
        return evaluate_s3(world, req)
    return evaluate_kms(world, req)

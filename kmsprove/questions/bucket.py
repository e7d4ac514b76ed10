"""`can WHO s3:GetObject on bucket ARN`: the composed SSE-KMS read (R8), as one question.

The S3 request on a symbolic object of the bucket and the KMS calls S3 makes with the
caller's credentials must both be allowed (`kmsprove.encode.s3`).
"""

from __future__ import annotations

import time
from dataclasses import replace

from kmsprove.answer import Answer, Verdict
from kmsprove.arn import key_arn_parts
from kmsprove.ast import Query
from kmsprove.encode.derive import free_facts
from kmsprove.encode.errors import Unmodelled
from kmsprove.encode.question import cond_formula, who_formula
from kmsprove.encode.s3 import encode_read, s3_action
from kmsprove.encode.static import keeps
from kmsprove.encode.symbolic import new_sym
from kmsprove.encode.universe import build_universe, restrict
from kmsprove.errors import InputError
from kmsprove.questions.formulas import check
from kmsprove.solve.bounds import set_bound_for
from kmsprove.world import World


def ask_bucket(world: World, query: Query, timeout: float) -> Answer:
    start = time.perf_counter()
    answer = _solve_bucket(world, query, timeout)
    return replace(answer, seconds=time.perf_counter() - start)


def _solve_bucket(world: World, query: Query, timeout: float) -> Answer:
    target = query.target
    if target is None or target.kind != "bucket":
        raise ValueError("a bucket question needs `on bucket ARN`")
    bucket = world.bucket(target.ref)
    if bucket is None:
        raise InputError.at(target.pos, f"no bucket `{target.ref}` in the world")
    if query.ever:
        return Answer(Verdict.UNKNOWN, reason="`ever` (steps over time) is not modelled yet")
    if bucket.kms_key is None or key_arn_parts(bucket.kms_key) is None:
        return Answer(
            Verdict.UNKNOWN,
            reason="unknown key: the bucket's default key is not a key ARN (R8.3, 10.2)",
        )
    key = world.find_key(bucket.kms_key)
    if key is None:
        return Answer(
            Verdict.UNKNOWN, reason=f"the bucket's key `{bucket.kms_key}` is not in the world"
        )
    if key.region != bucket.region:
        return Answer(
            Verdict.NO, reason="the key is not in the bucket's Region, so no read succeeds (R8.4)"
        )
    u = build_universe(world, key, query)
    restrict(u, keeps(world, query, u))
    bound = set_bound_for(world)
    try:
        sym = new_sym([s3_action(a) for a in query.actions], bound)
        allowed, extra, resource = encode_read(world, bucket, key, u, sym, bound)
        who = who_formula(query, u, sym)
        conds = [cond_formula(c, sym) for c in query.conditions]
        facts = free_facts(u, None, sym) + extra
    except Unmodelled as exc:
        return Answer(Verdict.UNKNOWN, reason=f"not modelled: {exc}")
    return check(world, u, sym, key, [*facts, allowed, who, *conds], timeout, resource)

"""`ask`: a parsed query -> one `Answer` per key, dispatched by question kind (`ASK`).

`today` (a key's access now, `today.py`), `ever` (over any number of steps, `ever/`),
`bucket` (the composed S3 read, `bucket.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from kmsprove.answer import Answer
from kmsprove.ast import Query
from kmsprove.errors import InputError
from kmsprove.questions.bucket import ask_bucket
from kmsprove.questions.ever import ask_ever_key
from kmsprove.questions.hedge import hedge_answer
from kmsprove.questions.today import ask_key
from kmsprove.world import Key, World

# kind -> answer for one key: (world, query, key, timeout, trusted)
KeyQuestion = Callable[[World, Query, Key, float, tuple[str, ...]], Answer]
ASK: Mapping[str, KeyQuestion] = MappingProxyType(
    {
        "today": lambda world, query, key, timeout, trusted: ask_key(world, query, key, timeout),
        "ever": ask_ever_key,
    }
)


def question_kind(query: Query) -> str:
    if query.target is not None and query.target.kind == "bucket":
        return "bucket"
    return "ever" if query.ever else "today"


def ask(
    world: World, query: Query, timeout: float = 30.0, trusted: tuple[str, ...] = ()
) -> list[Answer]:
    """One answer per key the query is about (one for a bucket)."""
    kind = question_kind(query)
    if kind == "bucket":
        return [hedge_answer(world, ask_bucket(world, query, timeout))]
    if query.target is not None:
        key = world.find_key(query.target.ref)
        if key is None:
            raise InputError.at(query.target.pos, f"no key `{query.target.ref}` in the world")
        keys = [key]
    else:
        keys = list(world.keys)
    return [hedge_answer(world, ASK[kind](world, query, k, timeout, trusted)) for k in keys]


__all__ = ["ASK", "ask", "question_kind"]

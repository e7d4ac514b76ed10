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
from kmsprove.questions.hedge import hedge_answer
from kmsprove.questions.today import ask_key
from kmsprove.world import Key, World


def _ask_ever_key(
    world: World, query: Query, key: Key, timeout: float, trusted: tuple[str, ...]
) -> Answer:
    # start-up: `ever`'s search (several modules), only for a question that asks it
    from kmsprove.questions.ever import ask_ever_key

    return ask_ever_key(world, query, key, timeout, trusted)


def _ask_bucket(world: World, query: Query, timeout: float) -> Answer:
    # start-up: the S3 encoding, only for a question about a bucket
    from kmsprove.questions.bucket import ask_bucket

    return ask_bucket(world, query, timeout)


# kind -> answer for one key: (world, query, key, timeout, trusted)
KeyQuestion = Callable[[World, Query, Key, float, tuple[str, ...]], Answer]
ASK: Mapping[str, KeyQuestion] = MappingProxyType(
    {
        "today": lambda world, query, key, timeout, trusted: ask_key(world, query, key, timeout),
        "ever": _ask_ever_key,
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
        return [hedge_answer(world, _ask_bucket(world, query, timeout))]
    if query.target is not None:
        key = world.find_key(query.target.ref)
        if key is None:
            raise InputError.at(query.target.pos, f"no key `{query.target.ref}` in the world")
        keys = [key]
    else:
        keys = list(world.keys)
    return [hedge_answer(world, ASK[kind](world, query, k, timeout, trusted)) for k in keys]


__all__ = ["ASK", "ask", "question_kind"]

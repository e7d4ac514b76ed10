"""What a unit of collection found, as the JSON record the progress log keeps: the
files it wrote, the world entries it makes, and what AWS refused.

A refusal that may change an answer (`hedge`) becomes a `World.unknowns` entry (about
its key, or about every key); the others (a Region's key listing, the bucket list)
leave something out of the world and are only reported (kmsprove/questions/hedge.py).
"""

from __future__ import annotations

from typing import Any

from kmsprove.collect.aws import Refusal

# a key that could not be read still loads: a key policy that allows nothing (the
# answers about it are unknown through its `unknowns` entry, never "no")
STAND_IN_POLICY: dict[str, Any] = {"Version": "2012-10-17", "Statement": []}


def refusal(
    r: Refusal, subject: str, effect: str, key: str | None = None, hedge: bool = True
) -> dict[str, Any]:
    """One refused read: `subject` what it was about, `effect` what the world does
    instead; `key` the key whose answers it hedges (None: every key's)."""
    return {
        "action": r.action,
        "code": r.code,
        "message": r.message,
        "subject": subject,
        "effect": effect,
        "key": key,
        "hedge": hedge,
    }


def unknown_entry(refused: dict[str, Any]) -> dict[str, Any]:
    """The world's `unknowns` entry for a hedging refusal."""
    entry = {"reason": f"{refused['action']} refused ({refused['code']}) for {refused['subject']}"}
    if refused.get("key"):
        entry["key"] = refused["key"]
    return entry

"""The encoder's one error: a feature it does not model (the answer is unknown, never no)."""

from __future__ import annotations


class Unmodelled(Exception):
    """Something the encoder does not model: the answer must be unknown."""

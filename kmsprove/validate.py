"""AST stage, second half: semantic checks on built policies, grants and worlds.

`kmsprove.policy` reports what is structurally wrong while building; this
module reports what AWS would reject (or accept but almost surely by mistake)
in a well-formed document.
"""

from __future__ import annotations

from kmsprove.ast import Policy
from kmsprove.errors import Diagnostic
from kmsprove.world import World


def check_policy(policy: Policy) -> list[Diagnostic]:
    """Every semantic problem of one policy, for its kind."""
    return []


def check_world(world: World) -> list[Diagnostic]:
    """Problems that only show across documents (grants vs keys, unknown documents)."""
    return []

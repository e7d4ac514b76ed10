"""Requests as AWS receives them, decided without the solver (and without z3): whether
the caller exists in a world, what context the caller itself sends (`as_sent`: the rest
AWS derives), and a grant id a RevokeGrant may name. The solver's witnesses and the
questions' concrete requests (`kmsprove.questions.today.concrete_yes`) both pass here.
"""

from __future__ import annotations

from dataclasses import replace

from kmsprove.arn import is_service_role, parse_caller
from kmsprove.evaluate.context import derived_context
from kmsprove.request import Context, Request
from kmsprove.world import Key, World

# the GrantId of the API reference's examples
EXAMPLE_GRANT_ID = "0c237476b39f8bc44e45212e08498fbe3151305030726c0590dd8d3e9f3d6a60"


def some_grant_id(key: Key) -> str:
    """A grant id a RevokeGrant of `key` may name: which one does not change its
    authorization (R4.7), so a grant of the key, else the docs' example id."""
    return next((g.grant_id for g in key.grants if g.grant_id), EXAMPLE_GRANT_ID)


def as_sent(world: World, req: Request) -> Request:
    """`req` with only the context its caller has to send: every key `world` derives
    with the same value is left out (a value it derives differently, or not at all,
    such as an organization the solver chose for an account the world does not
    describe, stays)."""
    derived = {
        name.lower(): (v,) if isinstance(v, str) else tuple(v)
        for name, v in derived_context(world, req).items()
    }
    keep = {
        req.context.names[low]: vals
        for low, vals in req.context.values.items()
        if derived.get(low) != tuple(vals)
    }
    return replace(req, context=Context.of(keep))


def caller_exists(world: World, req: Request) -> bool:
    """Whether the caller exists in `world` (the twin of `side_universe`'s absences):
    roots, services and callers of open accounts always; in a complete account
    only listed users and roles (a federated user: its IAM user)."""
    c = parse_caller(req.principal)
    if c.is_service or c.kind == "root" or c.account is None or world.is_open(c.account):
        return True
    if c.kind == "assumed-role" and is_service_role(c.name):
        return True  # a role AWS owns is never in the account's listing
    who = req.federated_from if c.kind == "federated-user" else req.principal
    return who is not None and world.identity(who) is not None

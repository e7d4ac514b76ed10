"""World stage: grants that name a principal by its unique id -> grants that name its ARN.

ListGrants may show a grantee or retiring principal as the principal's unique id
(`AROA...` for a role, `AIDA...` for a user; IAM identifiers, "Understanding unique ID
prefixes"). The world knows the id of a principal whose world-file entry gives
`unique_id` or that an imported `get-account-authorization-details` lists (`RoleId`,
`UserId`); such a grant is rewritten to name the principal's ARN, so both twins decide
it as they decide any grant to that user or role (a role's grant covers its sessions,
R4.3). An id no principal carries stays as it is: `kmsprove.validate.grants` warns, and
the twins let it cover nobody they can name while the questions answer "unknown" where
it could matter (`kmsprove.solve.unresolved`).
"""

from __future__ import annotations

from dataclasses import replace

from kmsprove.arn import unique_id_kind
from kmsprove.ast import Grant
from kmsprove.world import World


def resolve_unique_ids(world: World) -> World:
    """`world` with every unique id its principals carry replaced by their ARN in grants."""
    arns: dict[str, str] = {}
    for acct in world.accounts.values():
        for ident in acct.principals.values():
            if ident.unique_id is not None:
                arns.setdefault(ident.unique_id, ident.arn)  # a second holder is an error
    if not arns:
        return world
    keys = tuple(
        replace(k, grants=tuple(_resolved(g, arns) for g in k.grants))
        if any(_names_id(g) for g in k.grants)
        else k
        for k in world.keys
    )
    return replace(world, keys=keys)


def _names_id(g: Grant) -> bool:
    return any(v is not None and unique_id_kind(v) is not None for v in (g.grantee, g.retiring))


def _resolved(g: Grant, arns: dict[str, str]) -> Grant:
    if not _names_id(g):
        return g
    grantee = arns.get(g.grantee or "", g.grantee)
    retiring = arns.get(g.retiring or "", g.retiring)
    done = tuple((v, arns[v]) for v in (g.grantee, g.retiring) if v is not None and v in arns)
    return replace(g, grantee=grantee, retiring=retiring, resolved=done)

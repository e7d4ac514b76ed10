"""Grants that name a unique id no principal of the world carries: why an unsat is not
a proof (`unresolved_grant`), as `kmsprove.solve.bounds` says it for the set bound.

The encoder lets such a grant cover no class (`kmsprove.encode.principals`), and the
evaluator no caller (`kmsprove.evaluate.grants`), since nothing says whose id it is.
Its principal is some user (`AIDA...`) or role (`AROA...`) of some account, though
never one whose own unique id the world knows (that grant would have been resolved,
`kmsprove.inputs.unique_ids`). So when the universe a question asks about holds a
class that may be it, and the grant carries an action of the question, a "no" is
"unknown"; a "yes" found by another route is re-checked and stays a yes.
Twin: `kmsprove.evaluate.grants.unresolved_notes` (the decision's "unknown").
"""

from __future__ import annotations

from collections.abc import Iterable

from kmsprove.arn import unique_id_kind
from kmsprove.catalog import s3_facts
from kmsprove.encode.static import may_be_unresolved
from kmsprove.encode.universe import Universe
from kmsprove.world import Key


def kms_actions(actions: Iterable[str]) -> set[str]:
    """The KMS operations (`Decrypt`) of a question's actions; an S3 action stands for
    the KMS calls S3 makes with the caller's credentials (R8)."""
    out: set[str] = set()
    for name in actions:
        for a in s3_facts()["sse_kms"].get(name, [name]):
            if a.lower().startswith("kms:"):
                out.add(a.split(":", 1)[1])
    return out


def unresolved_grant(key: Key | None, u: Universe, actions: Iterable[str]) -> str | None:
    """Why "no request is allowed" may be wrong: a grant for one of `actions` (for
    RetireGrant, any grant: its retiring principal too) names an unresolved unique id
    that a class of `u` may be; None when no such grant could change the answer."""
    if key is None:
        return None
    ops = kms_actions(actions)
    for g in key.grants:
        roles = [("grantee", g.grantee)] if ops & set(g.operations) else []
        if "RetireGrant" in ops:
            roles.append(("retiring principal", g.retiring))
        for role, value in roles:
            if value is None or unique_id_kind(value) is None:
                continue
            if any(may_be_unresolved(value, e) for e in u.entries):
                label = g.grant_id or g.name or "(no GrantId)"
                return (
                    f"grant {label}'s {role} {value} is not resolved: its principal and"
                    " account are unknown, and it may be a caller the question covers"
                )
    return None

"""The set bound of a world: how many elements a multi-valued key's witness may need.

The argument is in `kmsprove.encode.symbolic`; an unsat found with a world whose
need exceeds `MAX_SET_BOUND` is not a proof (`bound_exceeded` says why).
"""

from __future__ import annotations

from kmsprove.catalog import is_multi_valued
from kmsprove.encode.static import MAX_SET_BOUND
from kmsprove.world import World


def _set_need(world: World) -> int:
    """Elements a set-valued key may need (kmsprove.encode.symbolic), for the
    neediest key: one per distinct test the policies make on it, for
    kms:EncryptionContextKeys also one per encryption-context key anything
    names, plus one."""
    tests: dict[str, set[tuple[object, ...]]] = {}
    ec_keys: set[str] = set()
    policies = [p for k in world.keys for p in k.policies]
    for acct in world.accounts.values():
        policies += [*acct.scps, *acct.rcps]
        for ident in acct.principals.values():
            policies += [*ident.policies, *([ident.boundary] if ident.boundary else [])]
    policies += [b.policy for b in world.buckets if b.policy]
    for p in policies:
        for st in p.statements:
            for c in st.conditions:
                low = c.key.lower()
                # one element per distinct test: a test written twice (in both sides of
                # a diff, say) is met or failed by the same element; `Null` tests
                # presence, which the extra element below gives
                if is_multi_valued(low) and c.base != "Null":
                    tests.setdefault(low, set()).add((c.set_op, c.base, c.values))
                if low.startswith("kms:encryptioncontext:"):
                    ec_keys.add(low)
    for k in world.keys:
        for g in k.grants:
            ec_keys.update(key.lower() for key, _ in (g.ec_equals or g.ec_subset or ()))
    need = {low: len(t) for low, t in tests.items()}
    need["kms:encryptioncontextkeys"] = need.get("kms:encryptioncontextkeys", 0) + len(ec_keys)
    return max(need.values()) + 1


def set_bound_for(world: World) -> int:
    return max(2, min(_set_need(world), MAX_SET_BOUND))


def bound_exceeded(world: World) -> str | None:
    need = _set_need(world)
    if need <= MAX_SET_BOUND:
        return None
    return f"a multi-valued key may need {need} values, more than the {MAX_SET_BOUND} the solver models"

"""The syntactic "no", exact per principal class, before any formula is built.

KMS allows a request only when a key-policy Allow statement covers its caller (by
name, account, wildcard or service) or a grant does (R1.1, R1.4, R4.2); when no
statement or grant of the cut key (`kmsprove.encode.static.key_for`) covers any class
of the question's universe, nothing can be allowed, and no formula needs building.
`kmsprove.encode.static.maybe_covered` asks it coarser without z3 first; this asks it
with the encoder's own coverage, class by class.
"""

from __future__ import annotations

from kmsprove.ast import Effect
from kmsprove.encode.grants import coverage_by_grantee
from kmsprove.encode.principals import principal_vias
from kmsprove.encode.symbolic import Sym
from kmsprove.encode.universe import Universe
from kmsprove.world import Key


def may_allow(key: Key, u: Universe, sym: Sym) -> bool:
    """Whether some key-policy Allow statement or grant of `key` covers a class of `u`
    (False: no request of `sym`'s actions by those classes is allowed). RetireGrant
    has routes of its own (R4.7): always True."""
    if "kms:RetireGrant" in {a.name for a in sym.actions}:
        return True
    for policy in key.policies:
        for st in policy.statements:
            allow = st.effect is Effect.ALLOW and st.principal is not None
            if allow and st.principal and principal_vias(st.principal, u, sym):
                return True
    covering = coverage_by_grantee(u, sym)
    return any(covering(g) is not None for g in key.grants)

"""The encoder's decision on one concrete request: the twin of `evaluate`, for the
differential tests.

The request's symbols are pinned to constants (`fix_request`, `bind_context`); the
formula usually folds to true or false by simplification, and otherwise goes to the
solver, whose unknown stays an unknown (never read as deny).
"""

from __future__ import annotations

import z3

from kmsprove.answer import Verdict
from kmsprove.arn import NAMINGS, key_naming
from kmsprove.catalog import action_info
from kmsprove.encode.authorize import encode_allowed
from kmsprove.encode.derive import fix_request
from kmsprove.encode.errors import Unmodelled
from kmsprove.encode.symbolic import bind_context, new_sym
from kmsprove.encode.text import lit
from kmsprove.encode.universe import build_universe
from kmsprove.request import Request
from kmsprove.solve.bounds import set_bound_for
from kmsprove.solve.session import Sat, Unsat, deadline_in, solve
from kmsprove.world import World


def encoder_allows(world: World, req: Request, timeout: float = 60.0) -> Verdict:
    """YES when the encoder allows `req`, NO when it denies it, UNKNOWN when the solver
    cannot tell. Raises `Unmodelled` when the request uses something not modelled."""
    key = world.find_key(req.key or "")
    info = action_info(req.action)
    if key is None or info is None or not info.on_key:
        raise Unmodelled("requests on no key of the world")
    extra = [req.principal] + ([req.federated_from] if req.federated_from else [])
    u = build_universe(world, key, None, extra)
    multi = max((len(v) for v in req.context.values.values()), default=1)
    sym = new_sym([info], set_bound=max(set_bound_for(world), multi))
    sym.fixed = True
    bind_context(sym, dict(req.context.values), dict(req.context.open_keys))
    if req.via_vpce:
        sym.via_vpce = lit(req.via_vpce)
    sym.grant_id = lit(req.grant_id or "")
    sym.naming = z3.IntVal(NAMINGS.index(key_naming(req.key_id_as_sent or req.key or "")))
    allowed = encode_allowed(world, key, u, sym, req.session_policy)
    formula = z3.simplify(z3.And(allowed, *fix_request(u, key, sym, req), *sym.facts))
    if z3.is_true(formula):
        return Verdict.YES
    if z3.is_false(formula):
        return Verdict.NO
    result = solve([formula], deadline=None if timeout <= 0 else deadline_in(timeout))
    if isinstance(result, Sat):
        return Verdict.YES
    return Verdict.NO if isinstance(result, Unsat) else Verdict.UNKNOWN

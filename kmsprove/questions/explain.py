"""`kmsprove explain`: one concrete request -> its `Decision`, layer by layer.

The request comes from a request file or flags (`kmsprove.inputs.request_file`); the
context AWS derives is added here, under the caller's explicit values.
"""

from __future__ import annotations

from dataclasses import replace

from kmsprove.errors import SourcePos
from kmsprove.evaluate import evaluate
from kmsprove.evaluate.context import complete_request
from kmsprove.inputs import request_file
from kmsprove.request import Decision, Request
from kmsprove.world import World


def explain_request(world: World, req: Request) -> tuple[Decision, Request]:
    """The decision for `req` and the completed request it was made on; what kmsprove
    assumed in reading the request leads the decision's notes."""
    decision = evaluate(world, req)
    if req.notes:
        decision = replace(decision, warnings=(*req.notes, *decision.warnings))
    return decision, req


def request_from_cli(
    world: World,
    principal: str | None,
    action: str | None,
    key: str | None,
    resource: str | None,
    context: tuple[str, ...],
    grant_id: str | None = None,
    via_vpce: str | None = None,
) -> Request:
    """The completed request the command-line flags describe."""
    req, where = request_file.request_from_cli(
        world, principal, action, key, resource, context, grant_id, via_vpce
    )
    return _complete(world, req, where)


def request_from_file(world: World, path: str) -> Request:
    """The completed request a request file holds; bad input raises `InputError`."""
    req, where = request_file.request_from_file(world, path)
    return _complete(world, req, where)


def _complete(world: World, req: Request, where: SourcePos) -> Request:
    return complete_request(world, req, where)

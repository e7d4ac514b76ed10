"""`kmsprove explain`: decide one request, layer by layer."""

from __future__ import annotations

import json
from typing import Any

import click

from kmsprove.cli.support import (
    FORMAT,
    KEY_ARN,
    READ_OPTIONS,
    run,
)
from kmsprove.errors import InputError


@click.command()
@click.argument("world")
@click.option("--request", "request_file", default=None, help="JSON request file.")
@click.option("--principal", default=None, help="Caller ARN or service principal.")
@click.option("--action", default=None, help="Action, e.g. kms:Decrypt or s3:GetObject.")
@click.option("--key", default=None, help="Key ARN, key id or alias/NAME.")
@click.option("--resource", default=None, help="S3 object ARN (composed SSE-KMS read).")
@click.option(
    "--context", "context", multiple=True, help="KEY=VALUE; repeat a key for a multi-valued key."
)
@click.option("--grant-id", default=None, help="GrantId for RetireGrant/RevokeGrant.")
@click.option("--via-vpce", default=None, help="The call came through this KMS VPC endpoint.")
@FORMAT
@click.option("--timeout", type=float, default=None, help="Ignored by explain (no solver).")
@READ_OPTIONS
@KEY_ARN
def explain(
    world: str,
    request_file: str | None,
    principal: str | None,
    action: str | None,
    key: str | None,
    resource: str | None,
    context: tuple[str, ...],
    grant_id: str | None,
    via_vpce: str | None,
    fmt: str,
    timeout: float | None,
    options: tuple[Any, ...],
    key_arn: str | None,
) -> None:
    """Decide one request and show, layer by layer, why (WORLD: a world, a template or a
    key policy)."""
    # start-up: imported when the command runs
    from kmsprove.answer import ExitCode
    from kmsprove.inputs.key_policy_world import load_world_input
    from kmsprove.inputs.options import read_options
    from kmsprove.questions.explain import explain_request, request_from_cli, request_from_file
    from kmsprove.report.decision import decision_json, render_decision

    def body() -> tuple[str, int, list[str]]:
        given = load_world_input(world, read_options(*options, key_arn=key_arn))
        w, notes = given.world, [str(d) for d in given.warnings]
        if request_file is not None:
            if principal or action or key or resource or context:
                raise InputError.at_cli("give either --request or --principal/--action, not both")
            req = request_from_file(w, request_file)
        else:
            req = request_from_cli(w, principal, action, key, resource, context, grant_id, via_vpce)
        decision, full = explain_request(w, req)
        code = ExitCode.OK if decision.unknown is None else ExitCode.UNKNOWN
        if fmt == "json":
            return json.dumps(decision_json(decision, full, w.assumed), indent=2), code, notes
        return render_decision(decision, full, w.assumed), code, notes

    run(body)

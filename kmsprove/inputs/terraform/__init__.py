"""Inputs: `terraform show -json` output (a plan or a state) -> `World`.

Why plan JSON and not `.tf` files: the policies that decide access are usually built
by expressions (`jsonencode`, `aws_iam_policy_document`, `templatefile`), variables,
modules, `count` / `for_each` and data sources (the account id, the partition), which
only Terraform evaluates. The plan holds their values; HCL alone does not.

What is read: `plan.read_plan` (resources and configuration), `place` (account,
Region, placeholders), `kms` (keys, key policies, aliases, grants), `iam` (principals
and their documents), `s3` (buckets). Values known only after apply are handled as
each module says: never a guess that could turn into a false "no". Every policy is
read and validated where it stands in the plan file.
"""

from __future__ import annotations

import types
from pathlib import Path

from kmsprove import validate
from kmsprove.errors import Diagnostic, error
from kmsprove.inputs.options import ReadOptions
from kmsprove.inputs.peek import Loaded, Peek
from kmsprove.inputs.standins import unsettled
from kmsprove.inputs.terraform.context import Context
from kmsprove.inputs.terraform.iam import Identities
from kmsprove.inputs.terraform.kms import read_keys
from kmsprove.inputs.terraform.place import default_warnings, place
from kmsprove.inputs.terraform.plan import format_version_problem, read_plan
from kmsprove.inputs.terraform.s3 import read_buckets
from kmsprove.inputs.unique_ids import resolve_unique_ids
from kmsprove.syntax.tree import JNode, JObject, kind_name
from kmsprove.world import World

NOT_READ = {
    "aws_organizations_policy": "SCPs and RCPs only deny: a yes may be denied by one",
    "aws_vpc_endpoint": "a VPC endpoint policy only denies calls through it",
}


def load_plan(peek: Peek, kind: str) -> Loaded:
    """A plan or state file, as a world (its row in `kmsprove.inputs.FORMATS`)."""
    if peek.json is None:
        return Loaded(kind, None, tuple(peek.problems))
    world, diags = load_terraform(peek.json, peek.path, peek.text, peek.options)
    return Loaded(kind, world, tuple(diags))


def load_terraform(
    root: JNode, path: str, text: str, options: ReadOptions
) -> tuple[World | None, list[Diagnostic]]:
    """The world a plan or state file describes, and every problem."""
    if not isinstance(root, JObject):
        return None, [
            error(root.pos, f"expected `terraform show -json` output, not {kind_name(root)}")
        ]
    problem = format_version_problem(root)
    if problem is not None:
        return None, [problem]
    diags: list[Diagnostic] = []
    plan = read_plan(root, diags)
    where = place(plan, options, diags)
    ctx = Context(Path(path), text, plan, where)
    ctx.diags = diags
    if not plan.complete:
        item, diag = unsettled("the plan defers changes (`complete: false`)", None, root.pos)
        ctx.unknowns.append(item)
        diags.append(diag)
    for r in plan.resources:
        if r.type in NOT_READ:
            ctx.warn(r.node, f"`{r.address}` is not read: {NOT_READ[r.type]}")
    keys, drafts = read_keys(ctx)
    accounts = Identities(ctx).read()
    buckets = read_buckets(ctx, drafts)
    world = World(
        keys=tuple(keys),
        accounts=types.MappingProxyType(accounts),
        buckets=tuple(buckets),
        file=path,
        unknowns=tuple(ctx.unknowns),
        assumed=tuple(where.assumed),
    )
    world = resolve_unique_ids(world)  # a grant may name its grantee by unique id
    diags.extend(default_warnings(where, root))
    diags.extend(validate.check_world(world))
    return world, diags

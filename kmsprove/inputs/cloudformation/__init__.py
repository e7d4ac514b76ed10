"""Inputs: a CloudFormation template (JSON or YAML, `cdk synth` output included) -> `World`.

What a template says about access to its keys, as a world: its KMS keys with their key
policies and aliases, the principals it defines in its account (roles, users, groups
and the policies attached to them), its S3 buckets with their default keys and bucket
policies. The account is open (`complete` false): a template does not list every
principal of its account. Every diagnostic points into the template (`FILE:LINE:COL`),
YAML or JSON.

The stages: `template` checks the sections and settles parameter values;
`intrinsics` resolves `Ref`, `Fn::Sub`, `Fn::If`... where the value is static; `names`
builds the identifiers AWS gives resources (key ids, generated names, ARNs); `kms` and
`iam` read the resources into `Key`s, `Bucket`s and `Identity`s. What only deploy time
settles (`Fn::ImportValue`, SSM parameters, dynamic references, a parameter without a
value, a macro) becomes a stand-in that names nobody and an `Unresolved` item
(`kmsprove.inputs.unresolved`), so every answer it may change is unknown.
"""

from __future__ import annotations

import types

from kmsprove import validate
from kmsprove.errors import Diagnostic, error, warning
from kmsprove.inputs.cloudformation.functions import text_of
from kmsprove.inputs.cloudformation.iam import read_principals
from kmsprove.inputs.cloudformation.intrinsics import Resolver
from kmsprove.inputs.cloudformation.kms import read_buckets, read_keys
from kmsprove.inputs.cloudformation.names import Physical
from kmsprove.inputs.cloudformation.reading import Reading
from kmsprove.inputs.cloudformation.template import STACK_NAME, Template
from kmsprove.inputs.options import ReadOptions
from kmsprove.inputs.peek import Loaded, Peek
from kmsprove.inputs.unresolved import Unsettled, quiet, unsettled_warning
from kmsprove.syntax.tree import JArray, JNode, JObject, kind_name
from kmsprove.world import Account, World

SAM = "AWS::Serverless-2016-10-31"
LANGUAGE_EXTENSIONS = "AWS::LanguageExtensions"
NOT_READ = ("AWS::CloudFormation::Stack", "AWS::Serverless::Application")


def load_template(peek: Peek, kind: str) -> Loaded:
    """The template a file holds, as a world (`FORMATS`)."""
    root = peek.json or peek.yaml
    if root is None:
        return Loaded(kind, None, tuple(peek.syntax_problems()))
    world, diags = read_template(root, peek.path, peek.options)
    return Loaded(kind, world, tuple(diags))


def read_template(
    root: JNode, path: str, options: ReadOptions
) -> tuple[World | None, list[Diagnostic]]:
    """The world a template describes, and every problem (errors, then what it assumed)."""
    if not isinstance(root, JObject):
        return None, [error(root.pos, f"a template must be an object, not {kind_name(root)}")]
    tpl = Template(path, root, options)
    unsettled = Unsettled()
    resolver = Resolver(tpl, unsettled)
    names = Physical(tpl, resolver)
    rd = Reading(tpl, resolver, names)
    transforms(rd)
    keys = read_keys(rd)
    buckets = read_buckets(rd, keys)
    principals = read_principals(rd)
    account = Account(tpl.account, complete=False, principals=types.MappingProxyType(principals))
    world = World(
        keys=tuple(keys),
        accounts=types.MappingProxyType({tpl.account: account}),
        buckets=tuple(buckets),
        file=path,
        unknowns=unsettled.items(),
    )
    diags = [*tpl.problems, *rd.diags, *names.notes.values()]
    diags += [unsettled_warning(u) for u in world.unknowns]
    diags.append(summary(tpl, resolver.stack_name_used))
    if not any(d.is_error for d in diags):
        diags += validate.check_world(world)
    return world, quiet(diags)


def summary(tpl: Template, stack_name_used: bool) -> Diagnostic:
    """What the world rests on beyond the template: account, Region, stack name."""
    acct = tpl.account + ("" if tpl.options.account else " (kmsprove's default: give --account)")
    region = tpl.region + ("" if tpl.options.region else " (kmsprove's default: give --region)")
    parts = [f"read as account {acct}, Region {region}"]
    if stack_name_used:
        parts.append(f"AWS::StackName is the placeholder `{STACK_NAME}`")
    parts.append(
        f"account {tpl.account} is open: principals this template does not define may "
        "exist there, with any identity policy"
    )
    return warning(tpl.root.pos, "; ".join(parts))


def transforms(rd: Reading) -> None:
    """Macros and expansions the template asks for: said, and unknown where they may
    change what is read."""
    tpl = rd.tpl
    node = tpl.root.get("Transform")
    items = node.items if isinstance(node, JArray) else (node,) if node is not None else ()
    for item in items:
        name = text_of(item) if not isinstance(item, JObject) else None
        if name == SAM:
            rd.warn(
                item,
                f"`{SAM}` is not expanded: the roles and policies of its `AWS::Serverless::*` "
                "resources are not in the world (any principal of the open account)",
            )
        elif name != LANGUAGE_EXTENSIONS:
            shown = name or "AWS::Include"
            rd.r.unknown(
                f"`Transform {shown}`", item, None, "a macro rewrites the template at deploy time"
            )
    resources = tpl.root.get("Resources")
    for m in resources.members if isinstance(resources, JObject) else ():
        if m.key.startswith("Fn::ForEach::"):
            rd.r.unknown(
                f"`{m.key}`", m.value, None, "resources expanded at deploy time; not modelled"
            )
    for res in tpl.of_type(*NOT_READ):
        rd.warn(
            res.node,
            f"`{res.logical}` ({res.type}) is not read: its resources are not in the world",
        )

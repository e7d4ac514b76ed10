"""A template's IAM principals -> `Identity`s of the template's account.

Roles (`AssumeRolePolicyDocument`, inline `Policies`, `ManagedPolicyArns`,
`PermissionsBoundary`, `Path`, `RoleName`, `Tags`), users (also `Groups`) and groups,
with the documents attached to them by `AWS::IAM::Policy`, `AWS::IAM::ManagedPolicy`,
`AWS::IAM::RolePolicy`/`UserPolicy`/`GroupPolicy` and `AWS::IAM::UserToGroupAddition`
(by name: `Ref` of the principal, or its name written out).

A principal is listed with exactly its documents, so one that carries a document the
template does not hold (an AWS managed policy, a policy of another stack, a boundary
or group defined elsewhere) is left out, with a warning: the account is open, so it
stands as a principal nobody listed, with any identity policy, which is sound; listing
it with only the documents seen would claim it has no others. An attachment naming a
principal outside the template is left out the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kmsprove.ast import Policy, PolicyKind
from kmsprove.inputs.cloudformation.functions import text_of
from kmsprove.inputs.cloudformation.reading import Reading
from kmsprove.inputs.cloudformation.template import Resource
from kmsprove.inputs.unresolved import MARK, fill
from kmsprove.syntax.tree import JArray, JObject
from kmsprove.world import Identity

KINDS = {"AWS::IAM::Role": "role", "AWS::IAM::User": "user", "AWS::IAM::Group": "group"}
ATTACHERS = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
SINGLE = {  # a policy resource attached to one principal, by the name property
    "AWS::IAM::RolePolicy": ("role", "RoleName"),
    "AWS::IAM::UserPolicy": ("user", "UserName"),
    "AWS::IAM::GroupPolicy": ("group", "GroupName"),
}


@dataclass
class Holder:
    """What one principal of the template carries, gathered from every resource."""

    res: Resource
    kind: str  # role | user | group
    arn: str
    policies: list[Policy] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # documents named, not in the template
    groups: list[str] = field(default_factory=list)


def read_principals(rd: Reading) -> dict[str, Identity]:
    holders: dict[tuple[str, str], Holder] = {}
    for res in rd.resources(*KINDS):
        if rd.r.exists(res, None) is False:
            continue
        kind = KINDS[res.type]
        name = fill(rd.names.name(res, None))
        arn = fill(rd.names.iam_arn(res, None), "principal")
        holders[(kind, name)] = Holder(res, kind, arn)
    managed = managed_policies(rd)
    for h in holders.values():
        own(rd, h, managed)
    attach(rd, holders, managed)
    for (kind, _), h in holders.items():
        if kind == "user":
            for g in h.groups:
                group = holders.get(("group", g))
                if group is None:
                    h.missing.append(f"group `{g}`")
                else:
                    h.policies += group.policies
                    h.missing += group.missing
    out = {}
    for h in holders.values():
        if h.kind == "group":
            continue  # not a caller: its documents went to its users
        boundary_arn = rd.text(h.res, "PermissionsBoundary", None, "")
        boundary = managed.get(boundary_arn) if boundary_arn else None
        if boundary_arn and boundary is None:
            h.missing.append(f"permissions boundary `{boundary_arn}`")
        if h.missing:
            rd.warn(
                h.res.node,
                f"{h.kind} `{h.arn}` carries {', '.join(dict.fromkeys(h.missing))}, whose "
                "document is not in this template: left out, so it stands as any principal "
                f"of the open account {rd.tpl.account}",
            )
            continue
        out[h.arn] = identity(rd, h, boundary)
    return out


def managed_policies(rd: Reading) -> dict[str, Policy]:
    """The template's managed policies by ARN."""
    out = {}
    for res in rd.resources("AWS::IAM::ManagedPolicy"):
        if rd.r.exists(res, None) is False:
            continue
        doc = rd.policy(
            rd.required(res, "PolicyDocument", None), PolicyKind.IDENTITY, None, "PolicyDocument"
        )
        if doc is not None:
            out[rd.names.iam_arn(res, None)] = doc
    return out


def own(rd: Reading, h: Holder, managed: dict[str, Policy]) -> None:
    """A principal's inline policies, managed policy ARNs and (users) groups."""
    res = h.res
    inline = rd.prop(res, "Policies", None)
    for item in inline.items if isinstance(inline, JArray) else ():
        doc_node = item.get("PolicyDocument") if isinstance(item, JObject) else None
        if doc_node is None:
            rd.r.fail(item, "an entry of `Policies` needs `PolicyName` and `PolicyDocument`")
            continue
        doc = rd.policy(doc_node, PolicyKind.IDENTITY, None, "PolicyDocument")
        if doc is not None:
            h.policies.append(doc)
    for arn in rd.texts(rd.prop(res, "ManagedPolicyArns", None), "ManagedPolicyArns"):
        if arn in managed:
            h.policies.append(managed[arn])
        else:
            h.missing.append(f"managed policy `{arn}`")
    if h.kind == "user":
        h.groups += rd.texts(rd.prop(res, "Groups", None), "Groups")


def attach(rd: Reading, holders: dict[tuple[str, str], Holder], managed: dict[str, Policy]) -> None:
    """Policies attached from other resources, and users added to groups."""
    for res in rd.resources(*ATTACHERS):
        if rd.r.exists(res, None) is False:
            continue
        if res.type == "AWS::IAM::ManagedPolicy":
            doc = managed.get(rd.names.iam_arn(res, None))
        else:
            node = rd.required(res, "PolicyDocument", None)
            doc = rd.policy(node, PolicyKind.IDENTITY, None, "PolicyDocument")
        for kind, prop in (("role", "Roles"), ("user", "Users"), ("group", "Groups")):
            for name in rd.texts(rd.prop(res, prop, None), prop):
                give(rd, holders, kind, name, res, doc)
    for res in rd.resources(*SINGLE):
        if rd.r.exists(res, None) is False:
            continue
        kind, prop = SINGLE[res.type]
        node = rd.required(res, "PolicyDocument", None)
        doc = rd.policy(node, PolicyKind.IDENTITY, None, "PolicyDocument")
        named = text_of(rd.required(res, prop, None) or res.node)
        if named is not None and MARK not in named:
            give(rd, holders, kind, named, res, doc)
    for res in rd.resources("AWS::IAM::UserToGroupAddition"):
        if rd.r.exists(res, None) is False:
            continue
        group = text_of(rd.required(res, "GroupName", None) or res.node)
        for user in rd.texts(rd.required(res, "Users", None), "Users"):
            h = holders.get(("user", user))
            if h is not None and group is not None and MARK not in group:
                h.groups.append(group)


def give(
    rd: Reading,
    holders: dict[tuple[str, str], Holder],
    kind: str,
    name: str,
    res: Resource,
    doc: Policy | None,
) -> None:
    h = holders.get((kind, name))
    if h is None:
        rd.warn(
            res.node,
            f"`{res.logical}` is attached to {kind} `{name}`, which is not in this template: "
            "left out (it stands as any principal of the open account)",
        )
    elif doc is not None:
        h.policies.append(doc)


def identity(rd: Reading, h: Holder, boundary: Policy | None) -> Identity:
    res = h.res
    trust = None
    if h.kind == "role":
        node = rd.required(res, "AssumeRolePolicyDocument", None)
        trust = rd.policy(node, PolicyKind.TRUST, None, "AssumeRolePolicyDocument")
    return Identity(
        arn=h.arn,
        policies=tuple(h.policies),
        boundary=boundary,
        tags=rd.tags(rd.prop(res, "Tags", None)),
        trust_policy=trust,
        groups=tuple(h.groups),
        pos=res.node.pos,
    )

"""Terraform IAM resources -> the `Identity`s of the world: `aws_iam_role` (trust policy,
`inline_policy` blocks, `managed_policy_arns`, `permissions_boundary`, path, tags),
`aws_iam_user`, `aws_iam_group`; inline policies (`aws_iam_role_policy`,
`aws_iam_user_policy`, `aws_iam_group_policy`); managed policies (`aws_iam_policy`,
`data.aws_iam_policy`) and their attachments (`aws_iam_role_policy_attachment`,
`aws_iam_user_policy_attachment`, `aws_iam_group_policy_attachment`,
`aws_iam_policy_attachment`); group membership (`aws_iam_group_membership`,
`aws_iam_user_group_membership`). A user carries its groups' policies.

A principal the plan manages holds exactly the identity-side documents the plan gives
it. One holding a document the plan does not have (an AWS managed policy, a boundary
defined elsewhere) is left out of the world: its account is open, so it may hold any
identity policy, and no answer about it is a "no" that document could break. A
principal whose ARN is known only after apply (`name_prefix`) is left out the same way.
A document known only after apply, or a principal an attachment names only after
apply, is unsettled for every key.
"""

from __future__ import annotations

import types
from dataclasses import dataclass, field

from kmsprove.ast import Policy, PolicyKind
from kmsprove.inputs.terraform.context import Context
from kmsprove.inputs.terraform.place import iam_arn, node_of
from kmsprove.inputs.terraform.plan import Resource
from kmsprove.inputs.terraform.values import Value
from kmsprove.syntax.tree import JObject, JString
from kmsprove.validate.principals import is_unique_id
from kmsprove.world import Account, Identity

KINDS = ("role", "user", "group")
INLINE = {
    "aws_iam_role_policy": "role",
    "aws_iam_user_policy": "user",
    "aws_iam_group_policy": "group",
}
ATTACH = {
    "aws_iam_role_policy_attachment": "role",
    "aws_iam_user_policy_attachment": "user",
    "aws_iam_group_policy_attachment": "group",
}
MEMBERSHIP = ("aws_iam_group_membership", "aws_iam_user_group_membership")
MANAGED_SOURCES = ("aws_iam_policy",)


@dataclass
class Principal:
    res: Resource
    kind: str
    name: str | None
    arn: str | None
    policies: list[Policy] = field(default_factory=list)
    inline: set[str] = field(default_factory=set)
    missing: list[str] = field(default_factory=list)  # documents the plan does not hold
    boundary: Policy | None = None
    trust: Policy | None = None
    groups: list[str] = field(default_factory=list)


class Identities:
    """Reads the plan's IAM resources into the accounts' principals (`read`)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.all: dict[str, list[Principal]] = {k: [] for k in KINDS}
        self.managed: dict[str, Policy | None] = {}  # policy ARN -> document (None: unknown)
        self.by_address: dict[str, Policy | None] = {}

    def read(self) -> dict[str, Account]:
        ctx = self.ctx
        for kind in KINDS:
            for r in ctx.plan.of_type(f"aws_iam_{kind}"):
                if r.mode == "managed":
                    self.all[kind].append(self.principal(r, kind))
        for r in ctx.plan.of_type("aws_iam_policy"):
            self.managed_policy(r)
        for r in ctx.plan.of_type(*INLINE):
            self.inline_policy(r, INLINE[r.type])
        for p in self.all["role"]:
            self.role_extras(p)
        for kind in ("role", "user"):
            for p in self.all[kind]:
                self.boundary(p)
        for r in ctx.plan.of_type(*ATTACH):
            for p in self.targets(r, ATTACH[r.type], r.attr(ATTACH[r.type])):
                self.attach(p, r, "policy_arn", r.attr("policy_arn"))
        for r in ctx.plan.of_type("aws_iam_policy_attachment"):
            for kind in KINDS:
                for item in self.listed(r, f"{kind}s"):
                    for p in self.targets(r, kind, item, f"{kind}s"):
                        self.attach(p, r, "policy_arn", r.attr("policy_arn"))
        self.memberships()
        return self.accounts()

    # -- principals and documents -----------------------------------------

    def principal(self, r: Resource, kind: str) -> Principal:
        name, path = r.attr("name").string, r.attr("path").string
        arn = r.attr("arn").string or iam_arn(self.ctx.place, kind, name, path)
        p = Principal(r, kind, name, arn)
        if kind == "role":
            # a role whose trust policy is not given counts as assumable by anyone
            # (`ever`): one known only after apply needs no stand-in
            doc = self.ctx.policy_attr(
                r, "assume_role_policy", PolicyKind.TRUST, None, settle=False
            )
            p.trust = doc.policy
            if doc.status == "unknown":
                self.ctx.warn(
                    node_of(r, "assume_role_policy"),
                    f"`{r.address}`: its trust policy is known only after apply: `ever` "
                    "counts the role as assumable by anyone",
                )
        return p

    def managed_policy(self, r: Resource) -> None:
        doc = self.ctx.policy_attr(r, "policy", PolicyKind.IDENTITY, None)
        arn = r.attr("arn").string or iam_arn(
            self.ctx.place, "policy", r.attr("name").string, r.attr("path").string
        )
        self.by_address[r.address] = doc.policy
        if arn is not None:
            self.managed[arn] = doc.policy
        elif r.mode == "managed":
            self.ctx.warn(r.node, f"`{r.address}`: its ARN is known only after apply")

    def inline_policy(self, r: Resource, kind: str) -> None:
        doc = self.ctx.policy_attr(r, "policy", PolicyKind.IDENTITY, None)
        for p in self.targets(r, kind, r.attr(kind)):
            if doc.policy is not None:
                p.policies.append(doc.policy)
            p.inline.add(r.attr("name").string or r.address)

    def role_extras(self, p: Principal) -> None:
        """The role's own `inline_policy` blocks and `managed_policy_arns` (as AWS reports
        them once applied; unknown and not configured: the other resources say)."""
        r = p.res
        blocks = r.attr("inline_policy")
        if blocks.is_unknown and r.expression("inline_policy") is not None:
            self.ctx.unsettled(r, "`inline_policy` is known only after apply", None, blocks.where)
        for block in blocks.items():
            name = block.at("name").string or ""
            if name in p.inline or not (block.at("policy").string or block.is_unknown):
                continue  # AWS reports an empty block for a role without inline policies
            doc = self.ctx.policy_attr(
                r, "inline_policy", PolicyKind.IDENTITY, None, block.at("policy")
            )
            if doc.policy is not None:
                p.policies.append(doc.policy)
                p.inline.add(name)
        arns = r.attr("managed_policy_arns")
        if arns.is_unknown and r.expression("managed_policy_arns") is not None:
            self.ctx.unsettled(
                r, "`managed_policy_arns` is known only after apply", None, arns.where
            )
        for item in arns.items():
            self.attach(p, r, "managed_policy_arns", item)

    def boundary(self, p: Principal) -> None:
        v = p.res.attr("permissions_boundary")
        if v.string or v.is_unknown:
            found = self.document_at(p.res, "permissions_boundary", v)
            if isinstance(found, str):
                p.missing.append(f"permissions boundary `{found}`")
            else:
                p.boundary = found

    def attach(self, p: Principal, r: Resource, attr: str, v: Value) -> None:
        found = self.document_at(r, attr, v)
        if isinstance(found, str):
            p.missing.append(f"`{found}`")
        elif found is not None:
            p.policies.append(found)

    def document_at(self, r: Resource, attr: str, v: Value) -> Policy | str | None:
        """The managed policy `v` names: its document, its ARN when the plan does not
        hold it, or None (known only after apply: unsettled, or a document that was)."""
        if v.string:
            if v.string in self.managed:
                return self.managed[v.string]
            for d in self.ctx.plan.of_type("aws_iam_policy"):
                if d.mode == "data" and d.attr("arn").string == v.string:
                    return self.by_address.get(d.address)
            return v.string
        refs = self.ctx.plan.referenced(r, attr, MANAGED_SOURCES)
        if len(refs) == 1 and refs[0].address in self.by_address:
            return self.by_address[refs[0].address]
        if v.is_unknown:
            self.ctx.unsettled(r, f"`{attr}` is known only after apply", None, v.where)
        return None

    # -- which principal an attribute names --------------------------------

    def listed(self, r: Resource, attr: str) -> list[Value]:
        v = r.attr(attr)
        if v.is_unknown and not v.items():
            return [v]
        return v.items()

    def targets(self, r: Resource, kind: str, v: Value, attr: str | None = None) -> list[Principal]:
        """The principals a name (or one known only after apply) names; a name that is
        no principal of the plan names one that stays open."""
        attr = attr or kind
        ctx = self.ctx
        refs = {t.address for t in ctx.plan.referenced(r, attr, (f"aws_iam_{kind}",))}
        if v.string is None:
            found = [p for p in self.all[kind] if p.res.address in refs]
            if v.is_unknown and len(found) != 1:
                ctx.unsettled(r, f"`{attr}` is known only after apply", None, v.where)
                return []
            return found[:1]
        same = [p for p in self.all[kind] if p.name == v.string]
        chosen = [p for p in same if p.res.address in refs] or [
            p for p in same if p.arn and p.arn.split(":")[4] == ctx.place.account
        ]
        if len(same) > 1 and len(chosen) != 1:
            for p in same:  # which one is meant is not said: none is described exactly
                p.missing.append(f"`{r.address}` (the {kind} name `{v.string}` is not unique)")
            return []
        if not same:
            if kind != "group":
                ctx.warn(
                    node_of(r, attr),
                    f"`{r.address}`: {kind} `{v.string}` is not in the plan: it stays open "
                    "(it may hold any identity policy)",
                )
            return []
        return chosen[:1] or same[:1]

    def memberships(self) -> None:
        groups = {p.name: p for p in self.all["group"] if p.name}
        for r in self.ctx.plan.of_type("aws_iam_group_membership"):
            group = self.group_name(r, "group", r.attr("group"))
            for v in self.listed(r, "users"):
                for user in self.targets(r, "user", v, "users"):
                    user.groups += [group] if group else []
        for r in self.ctx.plan.of_type("aws_iam_user_group_membership"):
            names = [self.group_name(r, "groups", v) for v in self.listed(r, "groups")]
            for user in self.targets(r, "user", r.attr("user")):
                user.groups += [g for g in names if g]
        for user in self.all["user"]:
            for g in dict.fromkeys(user.groups):
                member_of = groups.get(g)
                if member_of is None:
                    user.missing.append(f"group `{g}` (not in the plan)")
                else:
                    user.policies.extend(member_of.policies)
                    user.missing.extend(member_of.missing)

    def group_name(self, r: Resource, attr: str, v: Value) -> str | None:
        if v.string:
            return v.string
        found = self.targets(r, "group", v, attr)
        return found[0].name if found else None

    # -- the accounts --------------------------------------------------------

    def accounts(self) -> dict[str, Account]:
        principals: dict[str, dict[str, Identity]] = {}
        for kind in ("role", "user"):
            for p in self.all[kind]:
                ident = self.identity(p)
                if ident is not None:
                    principals.setdefault(ident.account, {})[ident.arn] = ident
        return {
            acct: Account(acct, principals=types.MappingProxyType(ps))
            for acct, ps in sorted(principals.items())
        }

    def tags(self, p: Principal) -> tuple[tuple[str, str], ...]:
        """`tags_all` (with the provider's default tags), else `tags`."""
        for name in ("tags_all", "tags"):
            v = p.res.attr(name)
            if isinstance(v.node, JObject) and not v.is_unknown:
                return tuple(
                    (m.key, m.value.value) for m in v.node.members if isinstance(m.value, JString)
                )
            if v.is_unknown and self.ctx.mentions("PrincipalTag"):
                self.ctx.unsettled(p.res, f"`{name}` is known only after apply", None, v.where)
                return ()
        return ()

    def identity(self, p: Principal) -> Identity | None:
        r = p.res
        if p.arn is None:
            self.ctx.warn(
                node_of(r, "arn"),
                f"`{r.address}`: its ARN is known only after apply: left out of the world, "
                "it may hold any identity policy",
            )
            return None
        if p.missing:
            self.ctx.warn(
                r.node,
                f"`{r.address}` holds {', '.join(dict.fromkeys(p.missing))}, which this file "
                "does not hold: left out of the world, it may hold any identity policy",
            )
            return None
        uid = r.attr("unique_id").string  # how ListGrants may name it (AIDA.../AROA...)
        return Identity(
            arn=p.arn,
            unique_id=uid if uid and is_unique_id(uid) else None,
            policies=tuple(p.policies),
            boundary=p.boundary,
            tags=self.tags(p),
            trust_policy=p.trust,
            groups=tuple(dict.fromkeys(p.groups)),
            pos=r.node.pos,
        )

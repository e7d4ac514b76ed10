"""Typed reads of resolved resource properties, shared by the KMS, S3 and IAM readers
(`Reading`): texts, booleans, tags, name lists and policy documents.

A document goes through `kmsprove.inputs.documents.read_document` (the same build and
validation as a policy file), after its unresolved parts are filled with stand-ins
(`kmsprove.inputs.unresolved.fill_policy`); its diagnostics point into the template.
"""

from __future__ import annotations

from kmsprove.ast import Policy, PolicyKind
from kmsprove.errors import Diagnostic, InputError, error, warning
from kmsprove.inputs.cloudformation.functions import text_of
from kmsprove.inputs.cloudformation.intrinsics import Resolver
from kmsprove.inputs.cloudformation.names import Physical
from kmsprove.inputs.cloudformation.template import Resource, Template
from kmsprove.inputs.documents import read_document
from kmsprove.inputs.unresolved import MARK, fill, fill_policy
from kmsprove.syntax.json import parse_json
from kmsprove.syntax.tree import JArray, JNode, JObject, JString, kind_name
from kmsprove.world import Unresolved

# property names of the types kmsprove reads (a typo would silently change a default)
PROPERTIES = {
    "AWS::KMS::Key": (
        "BypassPolicyLockoutSafetyCheck",
        "Description",
        "Enabled",
        "EnableKeyRotation",
        "KeyPolicy",
        "KeySpec",
        "KeyUsage",
        "MultiRegion",
        "Origin",
        "PendingWindowInDays",
        "RotationPeriodInDays",
        "Tags",
    ),
    "AWS::KMS::ReplicaKey": (
        "Description",
        "Enabled",
        "KeyPolicy",
        "PendingWindowInDays",
        "PrimaryKeyArn",
        "Tags",
    ),
    "AWS::KMS::Alias": ("AliasName", "TargetKeyId"),
    "AWS::IAM::Role": (
        "AssumeRolePolicyDocument",
        "Description",
        "ManagedPolicyArns",
        "MaxSessionDuration",
        "Path",
        "PermissionsBoundary",
        "Policies",
        "RoleName",
        "Tags",
    ),
    "AWS::IAM::User": (
        "Groups",
        "LoginProfile",
        "ManagedPolicyArns",
        "Path",
        "PermissionsBoundary",
        "Policies",
        "Tags",
        "UserName",
    ),
    "AWS::IAM::Group": ("GroupName", "ManagedPolicyArns", "Path", "Policies"),
    "AWS::IAM::Policy": ("Groups", "PolicyDocument", "PolicyName", "Roles", "Users"),
    "AWS::IAM::ManagedPolicy": (
        "Description",
        "Groups",
        "ManagedPolicyName",
        "Path",
        "PolicyDocument",
        "Roles",
        "Users",
    ),
    "AWS::IAM::RolePolicy": ("PolicyDocument", "PolicyName", "RoleName"),
    "AWS::IAM::UserPolicy": ("PolicyDocument", "PolicyName", "UserName"),
    "AWS::IAM::GroupPolicy": ("GroupName", "PolicyDocument", "PolicyName"),
    "AWS::IAM::UserToGroupAddition": ("GroupName", "Users"),
    "AWS::S3::BucketPolicy": ("Bucket", "PolicyDocument"),
}


class Reading:
    """One template being read into a world: its resolver, names and diagnostics."""

    def __init__(self, tpl: Template, resolver: Resolver, names: Physical) -> None:
        self.tpl = tpl
        self.r = resolver
        self.names = names
        self.diags: list[Diagnostic] = []

    def warn(self, node: JNode, message: str) -> None:
        self.diags.append(warning(node.pos, message))

    def resources(self, *types: str) -> list[Resource]:
        """The template's resources of these types that it may create (each checked for
        unknown properties)."""
        out = []
        for res in self.tpl.of_type(*types):
            known = PROPERTIES.get(res.type, ())
            for m in res.properties.members if res.properties is not None else ():
                if known and m.key not in known:
                    self.diags.append(
                        warning(m.key_pos, f"{res.type} has no property `{m.key}`: ignored")
                    )
            out.append(res)
        return out

    def prop(self, res: Resource, name: str, key: str | None) -> JNode | None:
        node = res.properties.get(name) if res.properties is not None else None
        return None if node is None else self.r.resolve(node, key)

    def required(self, res: Resource, name: str, key: str | None) -> JNode | None:
        node = self.prop(res, name, key)
        if node is None:
            self.tpl.problems.append(
                error(res.node.pos, f"{res.type} `{res.logical}` needs `{name}`")
            )
        return node

    def text(self, res: Resource, name: str, key: str | None, default: str) -> str:
        """A string property (a stand-in name where unresolved); `default` when absent."""
        node = self.prop(res, name, key)
        if node is None:
            return default
        value = text_of(node)
        if value is None:
            self.r.fail(node, f"`{name}` must be a string, not {kind_name(node)}")
            return default
        return default if value == MARK else fill(value)

    def flag(self, res: Resource, name: str, key: str | None, default: bool) -> bool:
        value = self.text(res, name, key, str(default).lower()).lower()
        if value not in ("true", "false"):
            self.r.fail(res.node, f"`{name}` must be true or false, not `{value}`")
            return default
        return value == "true"

    def texts(self, node: JNode | None, what: str) -> list[str]:
        """A list of strings (a name list, an ARN list); unresolved items left out."""
        if node is None:
            return []
        if isinstance(node, JString) and MARK in node.value:
            return []
        if not isinstance(node, JArray):
            self.r.fail(node, f"`{what}` must be a list, not {kind_name(node)}")
            return []
        out = []
        for item in node.items:
            value = text_of(item)
            if value is None:
                self.r.fail(item, f"`{what}` must be a list of strings, not {kind_name(item)}")
            elif MARK not in value:
                out.append(value)
        return out

    def tags(self, node: JNode | None) -> tuple[tuple[str, str], ...]:
        if node is None or (isinstance(node, JString) and MARK in node.value):
            return ()
        items = node.items if isinstance(node, JArray) else ()
        out = []
        for item in items:
            k = item.get("Key") if isinstance(item, JObject) else None
            v = item.get("Value") if isinstance(item, JObject) else None
            kt, vt = (text_of(k) if k else None), (text_of(v) if v else None)
            if kt is None:
                self.r.fail(item, 'a tag is {"Key": ..., "Value": ...}')
                continue
            out.append((fill(kt), fill(vt or "")))
        return tuple(out)

    def policy(
        self, node: JNode | None, kind: PolicyKind, key: str | None, what: str
    ) -> Policy | None:
        """A policy document property, resolved, its unknowns filled, built and checked."""
        value = None if node is None else self.r.resolve(node, key)
        if value is None:
            return None
        if isinstance(value, JString) and MARK in value.value and value.value != MARK:
            try:  # a document written as JSON text (`Fn::ToJsonString`, `Fn::Sub`)
                value = parse_json(value.value, f"{value.pos}#{what}")
            except InputError as exc:
                self.diags.extend(exc.diagnostics)
                return None
        policy, diags = read_document(fill_policy(value, kind), kind, "")
        self.diags.extend(diags)
        return policy

    def unknowns_of(self) -> tuple[Unresolved, ...]:
        return self.r.unsettled.items()

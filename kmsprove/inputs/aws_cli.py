"""`aws iam get-account-authorization-details` output as a complete account: users,
groups and roles with their inline and attached managed policies (default versions),
boundaries, trust policies, tags and unique ids (`UserId`, `RoleId`: how ListGrants
may name a grantee). (The get-key-policy and list-grants envelopes are
unwrapped by `documents.read_document` and `documents.read_grants`.)
"""

from __future__ import annotations

from kmsprove.arn import parse_caller
from kmsprove.ast import Policy, PolicyKind
from kmsprove.inputs.documents import Reader, read_document
from kmsprove.syntax.tree import JArray, JBool, JNode, JObject, JString
from kmsprove.world import Identity


def read_authorization_details(reader: Reader, acct_id: str, node: JNode) -> dict[str, Identity]:
    """Users, roles, groups and managed policies of one account (a complete account)."""
    details = _AuthorizationDetails(reader.path, reader.sources)  # one list of files read
    details.diags = reader.diags  # one list: the world's diagnostics
    return details.details(acct_id, node)


class _AuthorizationDetails(Reader):
    """get-account-authorization-details, read like the world file that imports it."""

    def details(self, acct_id: str, node: JNode) -> dict[str, Identity]:
        """Users, roles, groups and managed policies of one account (a complete account)."""
        if not isinstance(node, JObject):
            self.err(
                node, "expected `aws iam get-account-authorization-details` output (an object)"
            )
            return {}
        managed: dict[str, JNode] = {}
        for pol in _items(node.get("Policies")):
            arn = self.string(pol.get("Arn"), "Arn")
            default = self.string(pol.get("DefaultVersionId"), "DefaultVersionId")
            for ver in _items(pol.get("PolicyVersionList")):
                is_default = ver.get("IsDefaultVersion")
                if (isinstance(is_default, JBool) and is_default.value) or (
                    self.string(ver.get("VersionId"), "VersionId") == default
                ):
                    doc = ver.get("Document")
                    if arn and doc is not None:
                        managed[arn] = doc
        groups: dict[str, tuple[list[Policy], list[str]]] = {}
        for g in _items(node.get("GroupDetailList")):
            name = self.string(g.get("GroupName"), "GroupName") or ""
            groups[name] = self.attached(g, "GroupPolicyList", managed)
        out: dict[str, Identity] = {}
        for kind, list_name, inline, id_field in (
            ("user", "UserDetailList", "UserPolicyList", "UserId"),
            ("role", "RoleDetailList", "RolePolicyList", "RoleId"),
        ):
            for item in _items(node.get(list_name)):
                arn = self.string(item.get("Arn"), "Arn")
                if arn is None:
                    continue
                if parse_caller(arn).account != acct_id:
                    self.err(item, f"`{arn}` is not in account {acct_id}")
                    continue
                policies, unknown = self.attached(item, inline, managed)
                group_names = [
                    s.value for s in _items_any(item.get("GroupList")) if isinstance(s, JString)
                ]
                for gname in group_names:
                    gp, gu = groups.get(gname, ([], [f"group {gname}"]))
                    policies = policies + gp
                    unknown = unknown + gu
                boundary = None
                pb = item.get("PermissionsBoundary")
                if isinstance(pb, JObject):
                    pb_arn = self.string(pb.get("PermissionsBoundaryArn"), "PermissionsBoundaryArn")
                    if pb_arn in managed:
                        boundary = self.embedded(managed[pb_arn], PolicyKind.IDENTITY, pb_arn or "")
                    elif pb_arn:
                        unknown.append(pb_arn)
                trust = None
                trust_doc = item.get("AssumeRolePolicyDocument")
                if kind == "role" and trust_doc is not None:
                    trust = self.embedded(trust_doc, PolicyKind.TRUST, f"{arn} trust")
                out[arn] = Identity(
                    arn=arn,
                    policies=tuple(policies),
                    boundary=boundary,
                    tags=self.tags(item.get("Tags")),
                    trust_policy=trust,
                    groups=tuple(group_names),
                    unknown_documents=tuple(unknown),
                    unique_id=self.unique_id(item.get(id_field), kind, id_field),
                    pos=item.pos,
                )
        return out

    def attached(
        self, item: JObject, inline_list: str, managed: dict[str, JNode]
    ) -> tuple[list[Policy], list[str]]:
        policies: list[Policy] = []
        unknown: list[str] = []
        for ip in _items(item.get(inline_list)):
            name = self.string(ip.get("PolicyName"), "PolicyName") or ""
            doc = ip.get("PolicyDocument")
            if doc is not None:
                p = self.embedded(doc, PolicyKind.IDENTITY, name)
                if p is not None:
                    policies.append(p)
        for ap in _items(item.get("AttachedManagedPolicies")):
            arn = self.string(ap.get("PolicyArn"), "PolicyArn") or ""
            if arn in managed:
                p = self.embedded(managed[arn], PolicyKind.IDENTITY, arn)
                if p is not None:
                    policies.append(p)
            else:
                unknown.append(arn)
        return policies, unknown

    def embedded(self, node: JNode, kind: PolicyKind, name: str) -> Policy | None:
        """A policy document that may be URL-encoded JSON text (the raw IAM API)."""
        policy, diags = read_document(node, kind, name)
        self.diags.extend(diags)
        return policy


def _items(node: JNode | None) -> list[JObject]:
    return [i for i in _items_any(node) if isinstance(i, JObject)]


def _items_any(node: JNode | None) -> tuple[JNode, ...]:
    return node.items if isinstance(node, JArray) else ()

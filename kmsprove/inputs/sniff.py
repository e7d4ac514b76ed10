"""Inputs: what a file holds, from its content: each format's `sniff(peek) -> kind or
None` for its row in `kmsprove.inputs.FORMATS`, and the tests on a parsed tree they
rest on (`is_template`, `is_terraform`, `is_authorization_details`).

They sit apart from the formats' readers so that telling what a file is imports no
reader: a command given a world file never loads the CloudFormation or Terraform
readers, nor YAML (start-up time; `kmsprove.inputs` imports each reader on use).
"""

from __future__ import annotations

from kmsprove.ast import PolicyKind
from kmsprove.inputs.peek import Peek
from kmsprove.syntax.tree import JArray, JNode, JObject, JString

POLICY_KINDS = {k.value: k for k in PolicyKind}

# the sections `terraform show -json` writes for a plan or a state
TERRAFORM_SECTIONS = ("planned_values", "values", "resource_changes")
# the lists `aws iam get-account-authorization-details` writes
AUTHORIZATION_DETAILS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")


def _object(peek: Peek) -> JObject | None:
    node = peek.json
    return node if isinstance(node, JObject) else None


def sniff_world(peek: Peek) -> str | None:
    obj = _object(peek)
    return "world" if obj is not None and "version" in obj.names() else None


def is_template(node: JNode | None) -> bool:
    """An object with `Resources` or `AWSTemplateFormatVersion` (CloudFormation)."""
    if not isinstance(node, JObject):
        return False
    names = node.names()
    return "Resources" in names or "AWSTemplateFormatVersion" in names


def sniff_template(peek: Peek) -> str | None:
    """`world` for a template, JSON or YAML."""
    return "world" if is_template(peek.json or peek.yaml) else None


def is_terraform(node: JNode | None) -> bool:
    """`format_version` and one of `planned_values`, `values`, `resource_changes`."""
    if not isinstance(node, JObject):
        return False
    names = node.names()
    return "format_version" in names and any(s in names for s in TERRAFORM_SECTIONS)


def sniff_terraform(peek: Peek) -> str | None:
    return "world" if is_terraform(peek.json) else None


def is_authorization_details(node: JNode) -> bool:
    """`aws iam get-account-authorization-details` output (a world file imports it)."""
    return isinstance(node, JObject) and any(m in node.names() for m in AUTHORIZATION_DETAILS)


def sniff_grants(peek: Peek) -> str | None:
    node = peek.json
    if isinstance(node, JArray) or (isinstance(node, JObject) and "Grants" in node.names()):
        return "grants"
    return None


def sniff_get_key_policy(peek: Peek) -> str | None:
    obj = _object(peek)
    names = obj.names() if obj is not None else []
    return "key-policy" if "Policy" in names and "Statement" not in names else None


def sniff_request(peek: Peek) -> str | None:
    obj = _object(peek)
    names = obj.names() if obj is not None else []
    return "request" if "principal" in names and "action" in names else None


def _texts(node: JNode | None) -> list[str]:
    if isinstance(node, JString):
        return [node.value]
    if isinstance(node, JArray):
        return [i.value for i in node.items if isinstance(i, JString)]
    return []


def sniff_policy(peek: Peek) -> str | None:
    node = peek.json
    if node is not None and not isinstance(node, JObject):
        return PolicyKind.IDENTITY.value  # not a policy at all: its build says why
    if node is None or "Statement" not in node.names():
        return None
    body = node.get("Statement")
    items = body.items if isinstance(body, JArray) else (body,) if body is not None else ()
    statements = [s for s in items if isinstance(s, JObject)]
    if not any("Principal" in s.names() or "NotPrincipal" in s.names() for s in statements):
        return PolicyKind.IDENTITY.value
    actions = [a for s in statements for a in _texts(s.get("Action"))]
    resources = [
        r for s in statements for n in ("Resource", "NotResource") for r in _texts(s.get(n))
    ]
    has_resource = any("Resource" in s.names() or "NotResource" in s.names() for s in statements)
    if actions and all(a.lower().startswith("sts:") for a in actions) and not has_resource:
        return PolicyKind.TRUST.value
    if any(":s3:" in r for r in resources):
        return PolicyKind.BUCKET.value
    return PolicyKind.KEY_POLICY.value

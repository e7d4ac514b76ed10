"""The formats read from JSON alone (a world file, `terraform show -json`, `aws kms
list-grants` and `get-key-policy` output, a request, a policy): each one's `sniff` and
`load` for its row in `kmsprove.inputs.FORMATS`."""

from __future__ import annotations

from pathlib import Path

from kmsprove.ast import PolicyKind
from kmsprove.inputs.documents import read_document, read_grants
from kmsprove.inputs.peek import Loaded, Peek
from kmsprove.inputs.request_file import parse_request
from kmsprove.inputs.terraform import is_terraform, load_terraform
from kmsprove.inputs.world_file import WorldLoader
from kmsprove.syntax.tree import JArray, JNode, JObject, JString
from kmsprove.validate.request import check_request

POLICY_KINDS = {k.value: k for k in PolicyKind}


def _object(peek: Peek) -> JObject | None:
    node = peek.json
    return node if isinstance(node, JObject) else None


def sniff_world(peek: Peek) -> str | None:
    obj = _object(peek)
    return "world" if obj is not None and "version" in obj.names() else None


def load_world_file(peek: Peek, kind: str) -> Loaded:
    if peek.json is None:
        return Loaded(kind, None, tuple(peek.problems))
    world, diags = WorldLoader(Path(peek.path), peek.sources).load(root=peek.json)
    return Loaded(kind, world, tuple(diags))


def sniff_terraform(peek: Peek) -> str | None:
    return "world" if is_terraform(peek.json) else None


def load_plan(peek: Peek, kind: str) -> Loaded:
    if peek.json is None:
        return Loaded(kind, None, tuple(peek.problems))
    world, diags = load_terraform(peek.json, peek.path, peek.text, peek.options)
    return Loaded(kind, world, tuple(diags))


def sniff_grants(peek: Peek) -> str | None:
    node = peek.json
    if isinstance(node, JArray) or (isinstance(node, JObject) and "Grants" in node.names()):
        return "grants"
    return None


def load_grants(peek: Peek, kind: str) -> Loaded:
    node = peek.json
    if node is None:
        return Loaded(kind, None, tuple(peek.problems))
    grants, diags = read_grants(node, "")
    return Loaded(kind, grants, tuple(diags))


def sniff_get_key_policy(peek: Peek) -> str | None:
    obj = _object(peek)
    names = obj.names() if obj is not None else []
    return "key-policy" if "Policy" in names and "Statement" not in names else None


def sniff_request(peek: Peek) -> str | None:
    obj = _object(peek)
    names = obj.names() if obj is not None else []
    return "request" if "principal" in names and "action" in names else None


def load_request(peek: Peek, kind: str) -> Loaded:
    node = peek.json
    if node is None:
        return Loaded(kind, None, tuple(peek.problems))
    req, diags = parse_request(node, peek.path)
    if isinstance(node, JObject) and not diags:
        diags = check_request(req, node)
    return Loaded(kind, req, tuple(diags))


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


def load_policy(peek: Peek, kind: str) -> Loaded:
    node = peek.json
    if node is None:
        return Loaded(kind, None, tuple(peek.problems))
    policy, diags = read_document(node, POLICY_KINDS[kind], peek.path, peek.text)
    return Loaded(kind, policy, tuple(diags))

"""The formats read from JSON alone (a world file, `aws kms list-grants` and
`get-key-policy` output, a request, a policy): each one's `load` for its row in
`kmsprove.inputs.FORMATS` (their `sniff` are in `kmsprove.inputs.sniff`; a Terraform
plan's `load_plan` is in `kmsprove.inputs.terraform`)."""

from __future__ import annotations

from pathlib import Path

from kmsprove.inputs.documents import read_document, read_grants
from kmsprove.inputs.peek import Loaded, Peek
from kmsprove.inputs.request_file import parse_request
from kmsprove.inputs.sniff import POLICY_KINDS
from kmsprove.inputs.world_file import WorldLoader
from kmsprove.syntax.tree import JObject
from kmsprove.validate.request import check_request


def load_world_file(peek: Peek, kind: str) -> Loaded:
    if peek.json is None:
        return Loaded(kind, None, tuple(peek.problems))
    world, diags = WorldLoader(Path(peek.path), peek.sources).load(root=peek.json)
    return Loaded(kind, world, tuple(diags))


def load_grants(peek: Peek, kind: str) -> Loaded:
    node = peek.json
    if node is None:
        return Loaded(kind, None, tuple(peek.problems))
    grants, diags = read_grants(node, "")
    return Loaded(kind, grants, tuple(diags))


def load_request(peek: Peek, kind: str) -> Loaded:
    node = peek.json
    if node is None:
        return Loaded(kind, None, tuple(peek.problems))
    req, diags = parse_request(node, peek.path)
    if isinstance(node, JObject) and not diags:
        diags = check_request(req, node)
    return Loaded(kind, req, tuple(diags))


def load_policy(peek: Peek, kind: str) -> Loaded:
    node = peek.json
    if node is None:
        return Loaded(kind, None, tuple(peek.problems))
    policy, diags = read_document(node, POLICY_KINDS[kind], peek.path, peek.text)
    return Loaded(kind, policy, tuple(diags))

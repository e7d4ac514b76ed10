"""Documents, however they arrive: one `read_document` for every policy and one
`read_grants` for every grant list, so a file gives the same diagnostics whichever
command reads it and wherever it is referenced from.

`read_document(node, kind, name)` unwraps the envelopes AWS wraps documents in
(`aws kms get-key-policy` output, URL-encoded IAM API text; `unwrap_policy`),
builds the `Policy` and validates it, once. `policy_from_value` builds a document made
in memory (a trace step's new policy, a witness's assumed identity policy) without a
round trip through text. `Reader` holds the small typed readers every input format
shares (strings, booleans, tags, paths relative to the file).
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path
from typing import Any

from kmsprove.ast import Grant, Policy, PolicyKind
from kmsprove.errors import Diagnostic, InputError, error, suggest, warning
from kmsprove.inputs.files import Source, read_text
from kmsprove.syntax.grant import build_grant
from kmsprove.syntax.json import parse_json
from kmsprove.syntax.policy import build_policy
from kmsprove.syntax.tree import (
    JArray,
    JBool,
    JNode,
    JNull,
    JObject,
    JString,
    from_python,
    kind_name,
)
from kmsprove.validate import check_grant, check_policy
from kmsprove.validate.principals import is_unique_id, unique_id_problem

GET_KEY_POLICY_FIELDS = ("Policy", "PolicyName")
LIST_GRANTS_FIELDS = ("Grants", "Truncated", "NextMarker")


def unwrap_policy(
    node: JNode, kind: PolicyKind, diags: list[Diagnostic]
) -> tuple[JNode, str | None] | None:
    """The policy inside `node` and its stored text (None: `node` is the policy itself).

    Envelopes: `{"Policy": "<json>", "PolicyName": "default"}` (get-key-policy, and
    get-bucket-policy's `{"Policy": ...}`), and a JSON string, URL-encoded or not (the
    IAM API's policy documents).
    """
    if isinstance(node, JString):
        text = node.value
        if text.lstrip()[:3].upper() == "%7B":
            text = urllib.parse.unquote(text)
        return _parse(text, f"{node.pos.file}#{kind.value}", diags)
    if not (
        isinstance(node, JObject) and "Policy" in node.names() and "Statement" not in node.names()
    ):
        return node, None
    what = "get-key-policy" if kind is PolicyKind.KEY_POLICY else "policy"
    diags.extend(
        error(
            m.key_pos,
            f"unknown {what} output field `{m.key}`" + suggest(m.key, GET_KEY_POLICY_FIELDS),
        )
        for m in node.members
        if m.key not in GET_KEY_POLICY_FIELDS
    )
    inner = node.get("Policy")
    if not isinstance(inner, JString):
        holder = "the key policy" if kind is PolicyKind.KEY_POLICY else "the policy"
        where = inner if inner is not None else node
        diags.append(
            error(where.pos, f"`Policy` must be a string holding {holder}, not {kind_name(where)}")
        )
        return None
    return _parse(inner.value, f"{inner.pos.file}#Policy", diags)


def _parse(text: str, name: str, diags: list[Diagnostic]) -> tuple[JNode, str] | None:
    try:
        return parse_json(text, name), text
    except InputError as exc:
        diags.extend(exc.diagnostics)
        return None


def unwrap_grants(node: JNode, diags: list[Diagnostic]) -> JArray | None:
    """The grant array of a list or of list-grants output `{"Grants": [...]}`."""
    inner: JNode | None = node
    if isinstance(node, JObject):
        inner = node.get("Grants")
        if inner is None:
            diags.append(
                error(
                    node.pos,
                    'expected a list of grants or `aws kms list-grants` output (`{"Grants": [...]}`)',
                )
            )
            return None
        diags.extend(
            error(
                m.key_pos,
                f"unknown list-grants output field `{m.key}`" + suggest(m.key, LIST_GRANTS_FIELDS),
            )
            for m in node.members
            if m.key not in LIST_GRANTS_FIELDS
        )
        truncated = node.get("Truncated")
        if isinstance(truncated, JBool) and truncated.value:
            diags.append(
                warning(
                    truncated.pos,
                    "list-grants output is truncated: the grants after `NextMarker` are missing",
                )
            )
    if not isinstance(inner, JArray):
        assert inner is not None
        diags.append(error(inner.pos, f"`Grants` must be an array, not {kind_name(inner)}"))
        return None
    return inner


def read_document(
    node: JNode, kind: PolicyKind, name: str, text: str | None = None
) -> tuple[Policy | None, list[Diagnostic]]:
    """The policy a JSON value holds, and every problem: envelope, structure, semantics.

    `text` is the document's text when it was a file of its own (for AWS's size
    limits, which count the stored text); an envelope's inner text replaces it.
    """
    diags: list[Diagnostic] = []
    inner = unwrap_policy(node, kind, diags)
    if inner is None:
        return None, diags
    node, stored = inner if inner[1] is not None else (inner[0], text)
    policy, built = build_policy(node, kind, name or node.pos.file)
    diags.extend(built)
    if policy is not None:
        diags.extend(check_policy(policy, stored))
    return policy, diags


def policy_from_value(value: Any, kind: PolicyKind, name: str, file: str | None = None) -> Policy:
    """A policy from a document built in memory (positions at `file`, else `name`); it
    must be valid, since kmsprove wrote it."""
    policy, diags = build_policy(from_python(value, file or name), kind, name)
    errors = [d for d in diags if d.is_error]
    if policy is None or errors:
        raise ValueError(f"kmsprove built an invalid {kind.value}: {errors or diags}")
    return policy


def read_grants(
    node: JNode, key_arn: str, check: bool = True
) -> tuple[list[Grant], list[Diagnostic]]:
    """The grants of a grant list or `aws kms list-grants` output, with every problem:
    the envelope's fields, a truncated listing, duplicate grant ids, and (`check`) each
    grant's own; a world checks its grants with their key instead (`check_world`)."""
    diags: list[Diagnostic] = []
    items = unwrap_grants(node, diags)
    if items is None:
        return [], diags
    out: list[Grant] = []
    seen: dict[str, JNode] = {}
    for item in items.items:
        g = build_grant(item, diags, key_arn)
        if g is None:
            continue
        if check:
            diags.extend(check_grant(g))
        if g.grant_id and g.grant_id in seen:
            first = seen[g.grant_id].pos
            diags.append(
                error(
                    item.pos,
                    f"grant id `{g.grant_id}` appears twice "
                    f"(first at line {first.line}, column {first.col})",
                )
            )
        seen.setdefault(g.grant_id, item)
        out.append(g)
    return out, diags


class Reader:
    """Typed reads from positioned JSON; every problem goes to `diags`."""

    def __init__(self, path: Path, sources: list[Source] | None = None) -> None:
        self.path = path
        self.base = path.parent
        self.diags: list[Diagnostic] = []
        self.sources: list[Source] = [] if sources is None else sources  # files read

    def err(self, node: JNode | None, msg: str, fallback: JNode | None = None) -> None:
        where = node if node is not None else fallback
        if where is None:
            raise ValueError(f"no position for: {msg}")
        self.diags.append(error(where.pos, msg))

    def unknown_fields(self, node: JObject, allowed: tuple[str, ...], what: str) -> None:
        for m in node.members:
            if m.key not in allowed:
                self.diags.append(
                    error(m.key_pos, f"unknown {what} field `{m.key}`" + suggest(m.key, allowed))
                )

    def string(self, node: JNode | None, what: str) -> str | None:
        if node is None:
            return None
        if isinstance(node, JString):
            return node.value
        self.err(node, f"`{what}` must be a string, not {kind_name(node)}")
        return None

    def boolean(self, node: JNode | None, what: str, default: bool) -> bool:
        if node is None:
            return default
        if isinstance(node, JBool):
            return node.value
        self.err(node, f"`{what}` must be true or false, not {kind_name(node)}")
        return default

    def string_list(self, node: JNode | None, what: str) -> tuple[str, ...]:
        if node is None or isinstance(node, JNull):
            return ()
        if not isinstance(node, JArray):
            self.err(node, f"`{what}` must be an array of strings, not {kind_name(node)}")
            return ()
        out = []
        for item in node.items:
            s = self.string(item, what)
            if s is not None:
                out.append(s)
        return tuple(out)

    def unique_id(self, node: JNode | None, kind: str, what: str = "unique_id") -> str | None:
        """A user's (`AIDA...`) or role's (`AROA...`) unique id, checked against its kind."""
        value = self.string(node, what)
        problem = unique_id_problem(value, kind) if value is not None else None
        if problem is not None and node is not None and is_unique_id(value or ""):
            self.err(node, problem)  # an id AWS issues, but for the other kind of principal
            return None
        if problem is not None and node is not None:
            # AWS's own output or an emulator's: the principal stands, its id just
            # resolves no grant (a grant naming it stays unresolved: unknown, never no)
            self.diags.append(warning(node.pos, f"{problem}: no grant is resolved through it"))
            return None
        return value

    def tags(self, node: JNode | None) -> tuple[tuple[str, str], ...]:
        """`{"k": "v"}` or the AWS list shape `[{"Key": k, "Value": v}]`."""
        if node is None or isinstance(node, JNull):
            return ()
        out = []
        if isinstance(node, JObject):
            for m in node.members:
                v = self.string(m.value, f"tags.{m.key}")
                if v is not None:
                    out.append((m.key, v))
        elif isinstance(node, JArray):
            for item in node.items:
                if isinstance(item, JObject) and item.get("Key") is not None:
                    k = self.string(item.get("Key"), "Key")
                    v = self.string(item.get("Value"), "Value") or ""
                    if k is not None:
                        out.append((k, v))
                else:
                    self.err(item, 'a tag must be {"Key": ..., "Value": ...}')
        else:
            self.err(node, f"`tags` must be an object, not {kind_name(node)}")
        return tuple(out)

    def read(self, node: JString) -> tuple[JNode, str] | None:
        """The JSON (and its text) a path string names, relative to the file."""
        target = self.base / node.value
        display = str(target)
        if not target.is_file():
            why = "is a directory" if target.is_dir() else "no such file"
            self.err(node, f"cannot read `{node.value}`: {why}")
            return None
        try:
            text = read_text(target, display, self.sources)
            return parse_json(text, display), text
        except InputError as exc:
            self.diags.extend(exc.diagnostics)
            return None

    def document(self, node: JNode | None, kind: PolicyKind, name: str) -> Policy | None:
        """A document given inline or as a path, in any envelope (`read_document`)."""
        if node is None or isinstance(node, JNull):
            return None
        text = None
        if isinstance(node, JString) and kind_of_string(node) == "path":
            loaded = self.read(node)
            if loaded is None:
                return None
            node, text = loaded
            name = node.pos.file
        policy, diags = read_document(node, kind, name, text)
        self.diags.extend(diags)
        return policy

    def grants(self, node: JNode | None, key_arn: str) -> list[Grant]:
        if node is None or isinstance(node, JNull):
            return []
        if isinstance(node, JString):
            loaded = self.read(node)
            if loaded is None:
                return []
            node = loaded[0]
        grants, diags = read_grants(node, key_arn, check=False)  # check_world checks them
        self.diags.extend(diags)
        return grants


def kind_of_string(node: JString) -> str:
    """A document value that is a string: a path, or (IAM API) URL-encoded JSON text."""
    value = node.value.lstrip()
    return "text" if value.startswith(("{", "%7B", "%7b")) else "path"

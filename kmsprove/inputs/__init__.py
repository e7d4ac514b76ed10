"""`kmsprove validate`: files -> every `Diagnostic` (syntax, structure, semantics).

Each file is read and parsed on its own; a file that fails to parse yields its
syntax errors and the others are still checked. What a file is comes from
`--kind`, or is guessed from its content:

- an object with none of `Statement`, `Policy`, `Grants`, `version` -> one error
  asking for `--kind` (or naming `get-account-authorization-details` output);
- an object with `version` -> a world file;
- an array, or an object with `Grants` (`aws kms list-grants` output) -> grants;
- an object with `Policy` and no `Statement` (`aws kms get-key-policy` output)
  -> a key policy;
- a policy whose statements name no `Principal`/`NotPrincipal` -> an identity policy;
- with principals: a trust policy if every action is `sts:...` and no statement
  has `Resource`; a bucket policy if a `Resource` names an S3 ARN (`:s3:`);
  otherwise a key policy.
"""

from __future__ import annotations

import re
from pathlib import Path

from kmsprove.ast import PolicyKind
from kmsprove.errors import (
    Diagnostic,
    InputError,
    SourcePos,
    error,
    printable,
    sort_diagnostics,
    suggest,
    warning,
)
from kmsprove.inputs.world_file import WorldLoader
from kmsprove.syntax.json import (
    JArray,
    JBool,
    JNode,
    JObject,
    JString,
    kind_name,
    parse_json,
    read_text,
)
from kmsprove.syntax.policy import build_grant, build_policy
from kmsprove.validate import check_grant, check_policy

POLICY_KINDS = {k.value: k for k in PolicyKind}
FILE_KINDS = (*POLICY_KINDS, "grants", "world")
GET_KEY_POLICY_FIELDS = ("Policy", "PolicyName")
LIST_GRANTS_FIELDS = ("Grants", "Truncated", "NextMarker")


def validate_files(paths: list[str], kind: str | None) -> list[Diagnostic]:
    """Every diagnostic of every file, sorted (and cut at the usual limit)."""
    if kind is not None and kind not in FILE_KINDS:
        raise InputError.at_cli(f"unknown kind `{kind}`" + suggest(kind, FILE_KINDS))
    diags: list[Diagnostic] = []
    for path in paths:
        diags.extend(validate_file(path, kind))
    return sort_diagnostics(printable(diags))


def validate_file(path: str, kind: str | None) -> list[Diagnostic]:
    if kind == "world":
        return _world(path)
    try:
        text = read_text(path)
        root = parse_json(text, path)
    except InputError as exc:
        return list(exc.diagnostics)
    if kind is None and (problem := _unrecognised(root)) is not None:
        return [problem]
    chosen = kind or guess_kind(root)
    if chosen == "world":
        return _world(path)
    if chosen == "grants":
        return _grants(root)
    return _policy(root, text, POLICY_KINDS[chosen], path)


def guess_kind(root: JNode) -> str:
    """What a parsed file most likely is (see the module docstring)."""
    if isinstance(root, JArray):
        return "grants"
    if not isinstance(root, JObject):
        return PolicyKind.IDENTITY.value
    names = root.names()
    if "version" in names:
        return "world"
    if "Grants" in names:
        return "grants"
    if "Policy" in names and "Statement" not in names:
        return PolicyKind.KEY_POLICY.value
    body = root.get("Statement")
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


MARKERS = ("Statement", "Policy", "Grants", "version")
AUTHORIZATION_DETAILS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")


def _unrecognised(root: JNode) -> Diagnostic | None:
    """One clear error for an object that holds none of the guessed kinds."""
    if not isinstance(root, JObject) or any(m in root.names() for m in MARKERS):
        return None
    if any(m in root.names() for m in AUTHORIZATION_DETAILS):
        return error(
            root.pos,
            "this is `aws iam get-account-authorization-details` output: validate the world "
            'file that imports it (`"import"` in an account)',
        )
    return error(
        root.pos,
        "cannot tell what this file holds: no `Statement` (a policy), `Grants` (grants), "
        "`Policy` (get-key-policy output) or `version` (a world file); use `--kind`",
    )


def _texts(node: JNode | None) -> list[str]:
    if isinstance(node, JString):
        return [node.value]
    if isinstance(node, JArray):
        return [i.value for i in node.items if isinstance(i, JString)]
    return []


def _policy(root: JNode, text: str, kind: PolicyKind, path: str) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    node, stored = root, text
    if (
        kind is PolicyKind.KEY_POLICY
        and isinstance(root, JObject)
        and "Policy" in root.names()
        and "Statement" not in root.names()
    ):
        # `aws kms get-key-policy` output: the policy is a JSON string
        diags.extend(
            error(
                m.key_pos,
                f"unknown get-key-policy output field `{m.key}`"
                + suggest(m.key, GET_KEY_POLICY_FIELDS),
            )
            for m in root.members
            if m.key not in GET_KEY_POLICY_FIELDS
        )
        inner = root.get("Policy")
        if not isinstance(inner, JString):
            assert inner is not None
            diags.append(
                error(
                    inner.pos,
                    f"`Policy` must be a string holding the key policy, not {kind_name(inner)}",
                )
            )
            return diags
        try:
            node = parse_json(inner.value, f"{path}#Policy")
        except InputError as exc:
            return diags + list(exc.diagnostics)
        stored = inner.value
    policy, built = build_policy(node, kind, path)
    diags.extend(built)
    if policy is not None:
        diags.extend(check_policy(policy, stored))
    return diags


def _grants(root: JNode) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    node: JNode | None = root
    if isinstance(root, JObject):
        node = root.get("Grants")
        if node is None:
            return [
                error(
                    root.pos,
                    'expected a list of grants or `aws kms list-grants` output (`{"Grants": [...]}`)',
                )
            ]
        diags.extend(
            error(
                m.key_pos,
                f"unknown list-grants output field `{m.key}`" + suggest(m.key, LIST_GRANTS_FIELDS),
            )
            for m in root.members
            if m.key not in LIST_GRANTS_FIELDS
        )
        truncated = root.get("Truncated")
        if isinstance(truncated, JBool) and truncated.value:
            diags.append(
                warning(
                    truncated.pos,
                    "list-grants output is truncated: the grants after `NextMarker` are missing",
                )
            )
    if not isinstance(node, JArray):
        assert node is not None
        diags.append(error(node.pos, f"`Grants` must be an array, not {kind_name(node)}"))
        return diags
    seen: dict[str, JNode] = {}
    for item in node.items:
        g = build_grant(item, diags, "")
        if g is None:
            continue
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
    return diags


def _world(path: str) -> list[Diagnostic]:
    _, diags = WorldLoader(Path(path)).load()
    return diags


WORLD_HINT = re.compile(rb'"keys"\s*:')


def world_files(directory: str) -> list[str]:
    """The world files under a directory: `*.json` files that have a `keys` member
    (policy documents never do), sorted so runs and reports are stable."""
    out = [
        str(path)
        for path in sorted(Path(directory).rglob("*.json"))
        if path.is_file() and WORLD_HINT.search(path.read_bytes()[:1_000_000])
    ]
    if not out:
        raise InputError.at(SourcePos(directory), "no world files (`*.json` with `keys`) here")
    return out

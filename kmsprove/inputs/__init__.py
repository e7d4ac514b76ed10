"""Inputs: the only package that reads files. One table of formats, one way to read.

`FORMATS` lists every input format (`Format(name, kinds, sniff, load)`): how to tell it
from the file's content (`sniff`), which `--kind` values it can be read as, and how to
read it. `read(path, kind)` serves every command (validate, explain, query, check,
diff, estate runs), so the same file gives the same diagnostics everywhere; the CLI's
`--kind` choices are `KINDS`. A format is one module plus one row here
(docs/extending.md).

What a file is, without `--kind`, is the first format whose `sniff` recognises it:

- an object with `version` -> a world file;
- an array, or an object with `Grants` (`aws kms list-grants` output) -> grants;
- an object with `Policy` and no `Statement` (`aws kms get-key-policy` output)
  -> a key policy;
- an object with `principal` and `action` -> a request (`explain --request`);
- an object with `Statement`: a policy whose statements name no `Principal` /
  `NotPrincipal` is an identity policy; with principals, a trust policy if every
  action is `sts:...` and no statement has `Resource`, a bucket policy if a
  `Resource` names an S3 ARN (`:s3:`), otherwise a key policy;
- anything else -> one error asking for `--kind` (or naming
  `get-account-authorization-details` output, which a world file imports).

A command's WORLD (`load_world_or_policy`) is a world file, or a key policy read as a
world of one key (`kmsprove.inputs.key_policy_world`); another document is an error
that says what it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from kmsprove.ast import Grant, Policy, PolicyKind
from kmsprove.errors import (
    Diagnostic,
    InputError,
    SourcePos,
    error,
    printable,
    sort_diagnostics,
    suggest,
)
from kmsprove.inputs.aws_cli import is_authorization_details
from kmsprove.inputs.documents import read_document, read_grants
from kmsprove.inputs.files import head_bytes, read_text
from kmsprove.inputs.key_policy_world import check_key_arn, key_policy_world, not_a_world
from kmsprove.inputs.request_file import parse_request
from kmsprove.inputs.world_file import WorldLoader
from kmsprove.request import Request
from kmsprove.syntax.json import parse_json
from kmsprove.syntax.tree import JArray, JNode, JObject, JString
from kmsprove.validate.request import check_request
from kmsprove.world import PlacedKey, World

POLICY_KINDS = {k.value: k for k in PolicyKind}


@dataclass
class Peek:
    """A file being read: its text, and its JSON tree once a format asks for it."""

    path: str
    text: str
    tree: JNode | None = None  # already parsed (an in-memory document)
    problems: list[Diagnostic] = field(default_factory=list)  # why it is not JSON

    @cached_property
    def json(self) -> JNode | None:
        if self.tree is not None:
            return self.tree
        try:
            return parse_json(self.text, self.path)
        except InputError as exc:
            self.problems = list(exc.diagnostics)
            return None


@dataclass(frozen=True)
class Loaded:
    """What a file held, as its kind: a `World`, a `Policy`, grants; and every problem."""

    kind: str
    value: World | Policy | list[Grant] | Request | None
    diagnostics: tuple[Diagnostic, ...]

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]


@dataclass(frozen=True)
class Format:
    name: str
    kinds: tuple[str, ...]  # the `--kind` values it can be read as
    sniff: Callable[[Peek], str | None]  # the kind it holds, or None: not this format
    load: Callable[[Peek, str], Loaded]
    hint: re.Pattern[bytes] | None = None  # a cheap test on a file's head (directory scans)


# --------------------------------------------------------------------------
# JSON formats


def _object(peek: Peek) -> JObject | None:
    node = peek.json
    return node if isinstance(node, JObject) else None


def _sniff_world(peek: Peek) -> str | None:
    obj = _object(peek)
    return "world" if obj is not None and "version" in obj.names() else None


def _load_world(peek: Peek, kind: str) -> Loaded:
    if peek.json is None:
        return Loaded(kind, None, tuple(peek.problems))
    world, diags = WorldLoader(Path(peek.path)).load(root=peek.json)
    return Loaded(kind, world, tuple(diags))


def _sniff_grants(peek: Peek) -> str | None:
    node = peek.json
    if isinstance(node, JArray) or (isinstance(node, JObject) and "Grants" in node.names()):
        return "grants"
    return None


def _load_grants(peek: Peek, kind: str) -> Loaded:
    node = peek.json
    if node is None:
        return Loaded(kind, None, tuple(peek.problems))
    grants, diags = read_grants(node, "")
    return Loaded(kind, grants, tuple(diags))


def _sniff_get_key_policy(peek: Peek) -> str | None:
    obj = _object(peek)
    names = obj.names() if obj is not None else []
    return "key-policy" if "Policy" in names and "Statement" not in names else None


def _sniff_request(peek: Peek) -> str | None:
    obj = _object(peek)
    names = obj.names() if obj is not None else []
    return "request" if "principal" in names and "action" in names else None


def _load_request(peek: Peek, kind: str) -> Loaded:
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


def _sniff_policy(peek: Peek) -> str | None:
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


def _load_policy(peek: Peek, kind: str) -> Loaded:
    node = peek.json
    if node is None:
        return Loaded(kind, None, tuple(peek.problems))
    policy, diags = read_document(node, POLICY_KINDS[kind], peek.path, peek.text)
    return Loaded(kind, policy, tuple(diags))


FORMATS: tuple[Format, ...] = (
    Format("world", ("world",), _sniff_world, _load_world, re.compile(rb'"keys"\s*:')),
    Format("list-grants", ("grants",), _sniff_grants, _load_grants),
    Format("get-key-policy", ("key-policy",), _sniff_get_key_policy, _load_policy),
    Format("request", ("request",), _sniff_request, _load_request),
    Format("policy", tuple(POLICY_KINDS), _sniff_policy, _load_policy),
)
KINDS: tuple[str, ...] = (
    *POLICY_KINDS,
    *sorted({k for f in FORMATS for k in f.kinds if k not in POLICY_KINDS}),
)


# --------------------------------------------------------------------------
# reading


def sniff(peek: Peek) -> tuple[Format, str] | Diagnostic:
    """The format and kind of a file, or one error saying what to give instead."""
    for fmt in FORMATS:
        kind = fmt.sniff(peek)
        if kind is not None:
            return fmt, kind
    if peek.json is None:
        return peek.problems[0]
    pos = peek.json.pos
    if is_authorization_details(peek.json):
        return error(
            pos,
            "this is `aws iam get-account-authorization-details` output: validate the world "
            'file that imports it (`"import"` in an account)',
        )
    return error(
        pos,
        "cannot tell what this file holds: no `Statement` (a policy), `Grants` (grants), "
        "`Policy` (get-key-policy output), `principal` and `action` (a request) or "
        "`version` (a world file); use `--kind`",
    )


def read(path: str, kind: str | None = None) -> Loaded:
    """Read one file as `kind` (guessed when None); never raises for bad input."""
    if kind is not None and kind not in KINDS:
        raise InputError.at_cli(f"unknown kind `{kind}`" + suggest(kind, KINDS))
    try:
        peek = Peek(path, read_text(path))
    except InputError as exc:
        return Loaded(kind or "", None, tuple(exc.diagnostics))
    if peek.json is None:  # every format here is JSON: its syntax errors are the answer
        return Loaded(kind or "", None, tuple(peek.problems))
    found = sniff(peek)
    if kind is None:
        if isinstance(found, Diagnostic):
            return Loaded("", None, (found,))
        fmt, kind = found
        return fmt.load(peek, kind)
    if not isinstance(found, Diagnostic) and kind in found[0].kinds:
        return found[0].load(peek, kind)
    # the user's `--kind` decides which reader, whatever the content looks like
    fmt = next(f for f in FORMATS if kind in f.kinds)
    return fmt.load(peek, kind)


def validate_files(paths: list[str], kind: str | None) -> list[Diagnostic]:
    """Every diagnostic of every file, sorted (and cut at the usual limit)."""
    if kind is not None and kind not in KINDS:
        raise InputError.at_cli(f"unknown kind `{kind}`" + suggest(kind, KINDS))
    diags: list[Diagnostic] = []
    for path in paths:
        diags.extend(read(path, kind).diagnostics)
    return sort_diagnostics(printable(diags))


def read_as(path: str, kinds: tuple[str, ...], kind: str | None = None) -> Loaded:
    """Read one file that must be one of `kinds`; bad input raises `InputError`."""
    loaded = read(path, kind)
    if loaded.errors:
        raise InputError(loaded.errors)
    if loaded.kind not in kinds or loaded.value is None:
        raise InputError.at(SourcePos(path), f"expected {' or '.join(kinds)}, not {loaded.kind}")
    return loaded


def load_world_with_warnings(path: str | Path) -> tuple[World, list[Diagnostic]]:
    """Read and validate a world; raise `InputError` with every error."""
    loaded = read(str(path), "world")
    if loaded.errors or not isinstance(loaded.value, World):
        raise InputError(loaded.errors or loaded.diagnostics)
    return loaded.value, list(loaded.diagnostics)


def load_world(path: str | Path) -> World:
    """Read and validate a world; raise `InputError` with every error."""
    return load_world_with_warnings(path)[0]


@dataclass(frozen=True)
class WorldInput:
    """A command's WORLD argument, read: the world; for a key policy given as WORLD, its
    warnings (the policy's own, and where its key came from) and the key it was placed
    on (printed commands carry it as `--key-arn`, so they rebuild the same world)."""

    world: World
    warnings: tuple[Diagnostic, ...] = ()
    placed: PlacedKey | None = None


def load_world_or_policy(path: str, key_arn: str | None = None) -> WorldInput:
    """What a command's WORLD argument names: a world file, or a key policy (a document or
    `aws kms get-key-policy` output) as a world of one key, `key_arn` or the one its
    policy's root principal says (`kmsprove.inputs.key_policy_world`). Another document
    is an error saying what it is; raise `InputError` with every error."""
    check_key_arn(key_arn)
    loaded = read(path)
    if loaded.kind == "key-policy":
        if loaded.errors or not isinstance(loaded.value, Policy):
            raise InputError(loaded.errors or loaded.diagnostics)
        world, placed, notes = key_policy_world(path, loaded.value, key_arn)
        diags = sort_diagnostics(printable([*loaded.diagnostics, *notes]))
        if any(d.is_error for d in diags):
            raise InputError([d for d in diags if d.is_error])
        return WorldInput(world, tuple(diags), placed)
    if loaded.kind == "":
        # what it is could not be told: read as a world, whose errors say what is wrong
        loaded = read(path, "world")
    if loaded.kind != "world":
        raise not_a_world(path, loaded.kind)
    if loaded.errors or not isinstance(loaded.value, World):
        raise InputError(loaded.errors or loaded.diagnostics)
    if key_arn is not None:
        raise InputError.at_cli(
            f"--key-arn names the key of a key policy given as WORLD; `{path}` is a world"
            " file, whose keys carry their ARNs"
        )
    # a world file's warnings are `validate`'s to show, as before bare policies were read
    return WorldInput(loaded.value)


def world_files(directory: str) -> list[str]:
    """The world files under a directory (by each format's `hint`), sorted so runs and
    reports are stable."""
    hints = [f.hint for f in FORMATS if f.hint is not None and "world" in f.kinds]
    out = [
        str(path)
        for path in sorted(Path(directory).rglob("*.json"))
        if path.is_file() and any(h.search(head_bytes(path)) for h in hints)
    ]
    if not out:
        raise InputError.at(SourcePos(directory), "no world files (`*.json` with `keys`) here")
    return out


def guess_kind(root: JNode) -> str:
    """What a parsed document most likely is (the sniffers on an in-memory tree)."""
    found = sniff(Peek(root.pos.file, "", root))
    return PolicyKind.IDENTITY.value if isinstance(found, Diagnostic) else found[1]


__all__ = [
    "FORMATS",
    "KINDS",
    "Format",
    "Loaded",
    "WorldInput",
    "load_world",
    "load_world_or_policy",
    "load_world_with_warnings",
    "read",
    "read_as",
    "validate_files",
    "world_files",
]

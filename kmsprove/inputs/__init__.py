"""Inputs: the only package that reads files. One table of formats, one way to read.

`FORMATS` lists every input format (`Format(name, kinds, sniff, load)`): how to tell it
from the file's content (`sniff`, in `kmsprove.inputs.sniff`), which `--kind` values it
can be read as, and how to read it (a template's reader is imported when one is read).
`read(path, kind)` serves every command (validate, explain, query, check, diff, estate
runs), so the same file gives the same diagnostics everywhere; the CLI's `--kind`
choices are `KINDS`. A format is one module, its sniffer and one row here
(docs/extending.md). `ReadOptions` (`--account`, `--region`) reach every reader through
the `Peek`; a format whose input says where everything is ignores them.

What a file is, without `--kind`, is the first format whose `sniff` recognises it:

- an object with `version` -> a world file;
- an object with `Resources` or `AWSTemplateFormatVersion`, in JSON or YAML -> a
  CloudFormation template (or `cdk synth` output), read as a world
  (`kmsprove.inputs.cloudformation`, with the `ReadOptions` of `read`);
- an object with `format_version` and `planned_values`, `values` or `resource_changes`
  (`terraform show -json` of a plan or a state) -> a world (`inputs.terraform`);
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

A command's WORLD (`kmsprove.inputs.key_policy_world.load_world_input`) is a world
file, a template, or a key policy read as a world of one key; another document is an
error that says what it is.
"""

from __future__ import annotations

import re
from dataclasses import replace
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
)
from kmsprove.inputs.files import Source, head_bytes, read_text
from kmsprove.inputs.json_formats import (
    load_grants,
    load_policy,
    load_request,
    load_world_file,
)
from kmsprove.inputs.options import NO_OPTIONS, ReadOptions
from kmsprove.inputs.peek import Format, Loaded, Peek
from kmsprove.inputs.sniff import (
    POLICY_KINDS,
    is_authorization_details,
    is_template,
    sniff_get_key_policy,
    sniff_grants,
    sniff_policy,
    sniff_request,
    sniff_template,
    sniff_terraform,
    sniff_world,
)
from kmsprove.syntax.tree import JNode
from kmsprove.world import World


# The template readers are imported when a template is read, not with this table: a
# command given a world file or a policy needs neither them nor YAML (start-up).
def load_template(peek: Peek, kind: str) -> Loaded:
    """A CloudFormation template, as a world (`kmsprove.inputs.cloudformation`)."""
    # start-up: the CloudFormation reader, only for a template
    from kmsprove.inputs import cloudformation

    return cloudformation.load_template(peek, kind)


def load_plan(peek: Peek, kind: str) -> Loaded:
    """`terraform show -json` output, as a world (`kmsprove.inputs.terraform`)."""
    # start-up: the Terraform reader, only for a plan or a state
    from kmsprove.inputs import terraform

    return terraform.load_plan(peek, kind)


FORMATS: tuple[Format, ...] = (
    Format("world", ("world",), sniff_world, load_world_file, re.compile(rb'"keys"\s*:')),
    Format(
        "cloudformation",
        ("world",),
        sniff_template,
        load_template,
        # a template's top-level section, in JSON (`"Resources":`) or YAML (`Resources:`
        # at the start of a line)
        re.compile(rb'(?m)(^|[{,]\s*)"?(AWSTemplateFormatVersion|Resources)"?\s*:'),
        template=True,
    ),
    Format(
        "terraform",
        ("world",),
        sniff_terraform,
        load_plan,
        re.compile(rb'"format_version"\s*:[^{]*"terraform_version"\s*:'),
        template=True,
    ),
    Format("list-grants", ("grants",), sniff_grants, load_grants),
    Format("get-key-policy", ("key-policy",), sniff_get_key_policy, load_policy),
    Format("request", ("request",), sniff_request, load_request),
    Format("policy", tuple(POLICY_KINDS), sniff_policy, load_policy),
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
        return peek.syntax_problems()[0]
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
        "`Policy` (get-key-policy output), `principal` and `action` (a request), "
        "`version` (a world file) or `format_version` with `planned_values`, `values` or "
        "`resource_changes` (`terraform show -json`); use `--kind`",
    )


def read(path: str, kind: str | None = None, options: ReadOptions = NO_OPTIONS) -> Loaded:
    """Read one file as `kind` (guessed when None), told `options`; never raises for
    bad input."""
    if kind is not None and kind not in KINDS:
        raise InputError.at_cli(f"unknown kind `{kind}`" + suggest(kind, KINDS))
    sources: list[Source] = []
    try:
        peek = Peek(path, read_text(path, sources=sources), options=options, sources=sources)
    except InputError as exc:
        return Loaded(kind or "", None, tuple(exc.diagnostics))
    if peek.json is None and not is_template(peek.yaml):
        # neither JSON nor a YAML template: the errors of what the text looks like
        if peek.yaml is not None and peek.looks_like_yaml:
            why = "a YAML file is read as a CloudFormation template, but this one has no"
            why += " `Resources` or `AWSTemplateFormatVersion`"
            return Loaded(kind or "", None, (error(peek.yaml.pos, why),))
        return Loaded(kind or "", None, tuple(peek.syntax_problems()))
    found = sniff(peek)
    if kind is None:
        if isinstance(found, Diagnostic):
            return Loaded("", None, (found,))
        fmt, kind = found
    elif not isinstance(found, Diagnostic) and kind in found[0].kinds:
        fmt = found[0]
    else:  # the user's `--kind` decides which reader, whatever the content looks like
        fmt = next(f for f in FORMATS if kind in f.kinds)
    if peek.json is None and not fmt.template:  # YAML is only ever a template
        why = f"this is a CloudFormation template, not {kind}: read it as a world"
        return Loaded(kind, None, (error(SourcePos(path), why),))

    # the reader added the documents the file names to `sources`
    return replace(fmt.load(peek, kind), format=fmt.name, sources=tuple(sources))


def is_template_read(loaded: Loaded) -> bool:
    """The file was read as a template (the template flags applied to it)."""
    return any(f.template and f.name == loaded.format for f in FORMATS)


def check_options_used(options: ReadOptions, loaded: list[Loaded], paths: list[str]) -> None:
    """The template flags were given, but no file read is a template: an error."""
    if options.given and loaded and not any(is_template_read(x) for x in loaded):
        why = "--account, --region, --parameter and --physical-id read a CloudFormation"
        raise InputError.at_cli(f"{why} template; {', '.join(f'`{p}`' for p in paths)} is not one")


def validate_files(
    paths: list[str], kind: str | None, options: ReadOptions = NO_OPTIONS
) -> list[Diagnostic]:
    """Every diagnostic of every file, sorted (and cut at the usual limit)."""
    if kind is not None and kind not in KINDS:
        raise InputError.at_cli(f"unknown kind `{kind}`" + suggest(kind, KINDS))
    diags: list[Diagnostic] = []
    loaded = [read(path, kind, options) for path in paths]
    for x in loaded:
        diags.extend(x.diagnostics)
    if not any(d.is_error for d in diags):
        check_options_used(options, loaded, paths)
    return sort_diagnostics(printable(diags))


def read_as(
    path: str, kinds: tuple[str, ...], kind: str | None = None, options: ReadOptions = NO_OPTIONS
) -> Loaded:
    """Read one file that must be one of `kinds`; bad input raises `InputError`."""
    loaded = read(path, kind, options)
    if loaded.errors:
        raise InputError(loaded.errors)
    if loaded.kind not in kinds or loaded.value is None:
        raise InputError.at(SourcePos(path), f"expected {' or '.join(kinds)}, not {loaded.kind}")
    return loaded


def load_world_with_warnings(
    path: str | Path, options: ReadOptions = NO_OPTIONS
) -> tuple[World, list[Diagnostic]]:
    """Read and validate a world (a world file or a template); raise `InputError` with
    every error; the warnings, sorted."""
    loaded = read(str(path), "world", options)
    if loaded.errors or not isinstance(loaded.value, World):
        raise InputError(loaded.errors or loaded.diagnostics)
    return loaded.value, sort_diagnostics(printable(loaded.diagnostics))


def load_world_notes(
    path: str | Path, options: ReadOptions = NO_OPTIONS
) -> tuple[World, list[Diagnostic]]:
    """A world, and what its reader assumed for the user to see: a template's warnings
    (defaults, generated names, what is unresolved); a world file's warnings are
    `validate`'s to show. Raise `InputError` with every error, and when the template
    flags were given for a file that is no template."""
    world, loaded = _read_world(path, options)
    check_options_used(options, [loaded], [str(path)])
    return world, template_notes(loaded)


def load_world_of_directory(
    path: str | Path, options: ReadOptions = NO_OPTIONS
) -> tuple[World, list[Diagnostic], tuple[Source, ...], bool]:
    """One world of a directory: as `load_world_notes`, but `--account`/`--region`
    apply to the templates and plans among the directory's files, which world files
    beside them ignore; every file it was read from (`Loaded.sources`); and whether
    the options applied (a template or plan: the commands that read it again, the
    reproduce lines, pass them; a world file's must not)."""
    world, loaded = _read_world(path, options)
    return world, template_notes(loaded), loaded.sources, is_template_read(loaded)


def _read_world(path: str | Path, options: ReadOptions) -> tuple[World, Loaded]:
    loaded = read(str(path), "world", options)
    if loaded.errors or not isinstance(loaded.value, World):
        raise InputError(loaded.errors or loaded.diagnostics)
    return loaded.value, loaded


def template_notes(loaded: Loaded) -> list[Diagnostic]:
    """The warnings of a file read as a template, sorted; none for another format."""
    if not is_template_read(loaded):
        return []
    return sort_diagnostics(printable(d for d in loaded.diagnostics if not d.is_error))


def load_world(path: str | Path, options: ReadOptions = NO_OPTIONS) -> World:
    """Read and validate a world; raise `InputError` with every error."""
    return load_world_with_warnings(path, options)[0]


# what a directory scan looks at: JSON everywhere, YAML and `.template` for templates
_JSON_SUFFIXES = (".json",)
_TEMPLATE_SUFFIXES = (".yaml", ".yml", ".template")


def world_files(directory: str) -> list[str]:
    """The world files under a directory, sorted so runs and reports are stable: world
    files, CloudFormation/CDK templates (JSON or YAML) and `terraform show -json`
    output, each told by its format's `hint` on the file's head."""
    json_hints = [f.hint for f in FORMATS if f.hint is not None and "world" in f.kinds]
    yaml_hints = [f.hint for f in FORMATS if f.hint is not None and f.template]
    out = []
    for path in sorted(Path(directory).rglob("*")):
        suffix = path.suffix.lower()
        hints = (
            json_hints
            if suffix in _JSON_SUFFIXES
            else yaml_hints
            if suffix in _TEMPLATE_SUFFIXES
            else []
        )
        if hints and path.is_file() and any(h.search(head_bytes(path)) for h in hints):
            out.append(str(path))
    if not out:
        raise InputError.at(
            SourcePos(directory),
            "no world files here (`*.json` with `keys`, CloudFormation or CDK templates,"
            " `terraform show -json` output)",
        )
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
    "ReadOptions",
    "WorldInput",
    "load_world",
    "load_world_input",
    "load_world_notes",
    "load_world_of_directory",
    "load_world_with_warnings",
    "read",
    "read_as",
    "read_options",
    "validate_files",
    "world_files",
]

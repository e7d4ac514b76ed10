"""Report stage: `check` outcomes -> a SARIF 2.1.0 log for code scanning.

One result per failed (expectation, key). A failing `expect no` points at the
statement that grants the access (the file to fix), with the spec line as a
related location; a failing `expect yes` points at the spec line (nothing
grants the access), with the key policy as a related location. Unknown
outcomes are warnings of the invocation, not results: they are not findings. A world
an estate run could not check (bad input) is an error notification at each of its
errors, and the invocation is then not successful.

URIs are relative to `base` (the current directory) with forward slashes,
which GitHub code scanning resolves against the repository root; a file
outside `base` gets an absolute `file:` URI.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from kmsprove.answer import CheckStatus, Outcome
from kmsprove.errors import Diagnostic, SourcePos
from kmsprove.report.check import evidence, expectation_text

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
EXPECT_NO = "kmsprove/expect-no"
EXPECT_YES = "kmsprove/expect-yes"

RULES: tuple[dict[str, Any], ...] = (
    {
        "id": EXPECT_NO,
        "name": "ExpectedNoAccess",
        "shortDescription": {"text": "A request the spec says no one may make is allowed"},
        "fullDescription": {
            "text": "An `expect no:` line of the kmsprove spec fails: the solver found a request"
            " matching the query (or, with `ever`, a trace of steps ending in one) that the"
            " concrete evaluator re-checked and allows."
        },
        "help": {
            "text": "Narrow the statement this result points at (its principal, action or"
            " conditions) so the request shown is denied, then run `kmsprove check` again."
            " Run the `kmsprove query` of the spec line to see the whole answer.",
            "markdown": "Narrow the statement this result points at (its `Principal`, `Action`"
            " or `Condition`) so the request shown is denied, then run `kmsprove check` again."
            " Run the `kmsprove query` of the spec line to see the whole answer.",
        },
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["security", "aws-kms"], "precision": "very-high"},
    },
    {
        "id": EXPECT_YES,
        "name": "ExpectedAccessMissing",
        "shortDescription": {"text": "Access the spec says must exist is denied"},
        "fullDescription": {
            "text": "An `expect yes:` line of the kmsprove spec fails: the solver proved that no"
            " request matching the query is allowed, under the stated assumptions."
        },
        "help": {
            "text": "The message names the layer that denies an example request (key policy,"
            " identity policy, SCP...). Add the missing Allow there, or fix the spec line.",
            "markdown": "The message names the layer that denies an example request (key policy,"
            " identity policy, SCP...). Add the missing `Allow` there, or fix the spec line.",
        },
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["security", "aws-kms"], "precision": "very-high"},
    },
)


def sarif_log(
    outcomes: Sequence[Outcome], base: Path | None = None, errors: Sequence[Diagnostic] = ()
) -> dict[str, Any]:
    """The whole log: one run, its rules, results and the invocation's notes; `errors`
    are those of worlds that were not checked."""
    here = Path.cwd() if base is None else base
    driver: dict[str, Any] = {"name": "kmsprove", "version": _version()}
    uri = _information_uri()
    if uri:
        driver["informationUri"] = uri
    driver["rules"] = list(RULES)
    results = [_result(o, here) for o in outcomes if o.status is CheckStatus.FAILS]
    notes = [_bad_input(d, here) for d in errors]
    notes += [_notification(o, here) for o in outcomes if o.status is CheckStatus.UNKNOWN]
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": driver},
                "originalUriBaseIds": {
                    SRCROOT: {"uri": Path(os.path.abspath(here)).as_uri() + "/"}
                },
                # an unknown answer is a finished run that could not decide: a warning;
                # a world that could not be read is a run that did not finish
                "invocations": [
                    {"executionSuccessful": not errors, "toolExecutionNotifications": notes}
                ],
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }


def _version() -> str:
    try:
        return importlib.metadata.version("kmsprove")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"  # run from a source tree that was never installed


def _information_uri() -> str | None:
    """The project's home page, if the package metadata names one."""
    try:
        meta = importlib.metadata.metadata("kmsprove")
    except importlib.metadata.PackageNotFoundError:
        return None
    for entry in meta.get_all("Project-URL") or []:
        label, _, url = str(entry).partition(",")
        if label.strip().lower() in ("homepage", "source", "repository") and url.strip():
            return url.strip()
    try:
        home = str(meta["Home-page"] or "")
    except KeyError:  # importlib_metadata (the backport, which Dask loads) raises for a
        return None  # missing field where the standard library's gives None
    return home if home and home != "UNKNOWN" else None


def fingerprint(o: Outcome, rule: str) -> str:
    """Stable across runs and line moves: the expectation as written, the key, the rule."""
    text = "\0".join((expectation_text(o.expectation), o.key or "", rule))
    return hashlib.sha256(text.encode()).hexdigest()


def _result(o: Outcome, base: Path) -> dict[str, Any]:
    exp = o.expectation
    rule = EXPECT_YES if exp.expect else EXPECT_NO
    spec = _location(exp.pos, base)
    on_key = f" on key {o.key}" if o.key else ""
    head = f"`{expectation_text(exp)}` fails{on_key}: "
    if exp.expect:
        head += "no request matching the query is allowed."
        primary = spec
        related = (
            [_location(o.key_policy, base, 0, "key policy")] if o.key_policy is not None else []
        )
    else:
        head += "this request is allowed."
        refs = [SourcePos(r.file, r.line, r.col) for r in o.locations]
        # no file statement found (a key in no file): the spec line is all there is
        primary = _location(refs[0], base) if refs else spec
        related = [_location(exp.pos, base, 0, "expectation")] if refs else []
        related += [
            _location(r, base, n, "also lets the request in") for n, r in enumerate(refs[1:], 1)
        ]
    return {
        "ruleId": rule,
        "ruleIndex": 1 if exp.expect else 0,
        "level": "error",
        "message": {"text": "\n".join([head, *evidence(o)])},
        "locations": [primary],
        "relatedLocations": related,
        "partialFingerprints": {"kmsprove/v1": fingerprint(o, rule)},
        "properties": {"key": o.key},
    }


def _notification(o: Outcome, base: Path) -> dict[str, Any]:
    on_key = f" on key {o.key}" if o.key else ""
    return {
        "level": "warning",
        "message": {
            "text": f"`{expectation_text(o.expectation)}` is unknown{on_key}: {o.answer.reason}"
        },
        "locations": [_location(o.expectation.pos, base)],
    }


def _bad_input(d: Diagnostic, base: Path) -> dict[str, Any]:
    return {
        "level": "error" if d.is_error else "warning",
        "message": {"text": f"not checked (bad input): {d.message}"},
        "locations": [_location(d.pos, base)],
    }


def _location(
    pos: SourcePos, base: Path, ident: int | None = None, message: str | None = None
) -> dict[str, Any]:
    uri, root = _uri(pos.file, base)
    artifact = {"uri": uri, "uriBaseId": root} if root else {"uri": uri}
    out: dict[str, Any] = {}
    if ident is not None:
        out["id"] = ident
    out["physicalLocation"] = {
        "artifactLocation": artifact,
        "region": {"startLine": pos.line, "startColumn": pos.col},
    }
    if message is not None:
        out["message"] = {"text": message}
    return out


def _uri(file: str, base: Path) -> tuple[str, str | None]:
    """(relative URI, SRCROOT) for a file under `base`, else (absolute file URI, None)."""
    path = Path(os.path.abspath(file))
    # lexically first: a file reached through a symlink in the repository is that path
    for p, b in ((path, Path(os.path.abspath(base))), (path.resolve(), base.resolve())):
        if p.is_relative_to(b):
            return quote(p.relative_to(b).as_posix(), safe="/"), SRCROOT
    return path.as_uri(), None

"""The collector's output directory: deterministic JSON, written atomically, and the
progress log that lets `--resume` skip what a cut-short run already wrote.

- `canonical(value)` drops what changes between two reads of an unchanged estate
  (timestamps, request metadata, pagination markers) and sorts keys and the lists AWS
  returns in no particular order, but never a policy document's own lists.
- `Store.write(rel, value)` writes `DIR/rel` through a temporary file in the same
  directory and `os.replace`, and not at all when the bytes are already there (the
  file and its mtime stay as they were).
- `Progress` is an append-only log of finished units (one JSON line each, flushed and
  fsynced); a line cut short by a crash is ignored on resume, and the log is removed
  when a run completes.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import json
import os
import tempfile
from pathlib import Path
from typing import Any

# fields that hold a policy document: their lists keep AWS's order (statement order
# is what positions in diagnostics and reports point at)
DOCUMENT_FIELDS = frozenset(
    {"PolicyDocument", "AssumeRolePolicyDocument", "Document", "Policy", "Content"}
)
# dropped: they change from one read to the next without any change in access
VOLATILE_FIELDS = frozenset(
    {
        "ResponseMetadata",
        "NextMarker",
        "Marker",
        "NextToken",
        "Truncated",
        "IsTruncated",
        "RoleLastUsed",
    }
)
# the field that identifies an item of an AWS list, tried in this order
IDENTITY_FIELDS = (
    "GrantId",
    "Arn",
    "KeyArn",
    "AliasName",
    "TagKey",
    "Key",
    "PolicyArn",
    "PolicyName",
    "VersionId",
    "VpcEndpointId",
    "RoleName",
    "UserName",
    "GroupName",
    "InstanceProfileName",
    "Name",
    "Id",
)
PROGRESS = "collect.progress"  # not `*.json`: `kmsprove check DIR` never mistakes it
TEMP_PREFIX = ".tmp-"


def canonical(value: Any, in_document: bool = False) -> Any:
    """`value` without timestamps and volatile fields, with keys and AWS lists sorted."""
    if isinstance(value, dict):
        return {
            k: canonical(v, in_document or k in DOCUMENT_FIELDS)
            for k, v in sorted(value.items())
            if not _volatile(k, v, in_document)
        }
    if isinstance(value, list | tuple):
        items = [canonical(v, in_document) for v in value if not isinstance(v, datetime.date)]
        return items if in_document else sorted(items, key=_sort_key)
    return value


def _volatile(key: str, value: Any, in_document: bool) -> bool:
    if in_document:
        return False
    return key in VOLATILE_FIELDS or isinstance(value, datetime.date)


def _sort_key(item: Any) -> str:
    if isinstance(item, dict):
        for name in IDENTITY_FIELDS:
            if isinstance(item.get(name), str):
                return f"0{item[name]}\0{dumps(item)}"
    return f"1{dumps(item)}"


def dumps(value: Any) -> str:
    """The one serialization of every file the collector writes."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


class Store:
    """Files under one output directory, each written atomically and only if changed."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.kept: set[str] = set()  # every file this run produced (changed or not)
        self.changed: list[str] = []
        self.removed: list[str] = []

    def write(self, rel: str, value: Any, document: bool = False) -> str:
        """Write `value`, made canonical, to `DIR/rel` (a policy `document` keeps its
        lists in order); returns `rel`."""
        self.write_text(rel, dumps(canonical(value, in_document=document)))
        return rel

    def write_text(self, rel: str, text: str) -> None:
        self.kept.add(rel)
        target = self.root / rel
        data = text.encode("utf-8")
        with contextlib.suppress(OSError):
            if target.read_bytes() == data:
                return
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, data)
        self.changed.append(rel)

    def prune(self, subtrees: tuple[str, ...]) -> None:
        """Remove the `*.json` files under `subtrees` this run did not produce (a key
        deleted since the last run), and directories left empty."""
        for sub in subtrees:
            base = self.root / sub
            if not base.is_dir():
                continue
            for path in sorted(base.rglob("*.json")):
                rel = path.relative_to(self.root).as_posix()
                if rel not in self.kept:
                    path.unlink()
                    self.removed.append(rel)
            for d in sorted((p for p in base.rglob("*") if p.is_dir()), reverse=True):
                with contextlib.suppress(OSError):
                    d.rmdir()  # only when empty

    def clean_temporaries(self) -> None:
        """Temporary files a killed run left behind (never a document: `.tmp-*`)."""
        if self.root.is_dir():
            for path in self.root.rglob(f"{TEMP_PREFIX}*"):
                with contextlib.suppress(OSError):
                    path.unlink()


def atomic_write(target: Path, data: bytes) -> None:
    """`target` holds either its old bytes or `data`, never a part of them."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=TEMP_PREFIX + target.name + ".")
    try:
        os.chmod(tmp, _file_mode())  # as `open` would create it (mkstemp makes 0600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@functools.cache
def _file_mode() -> int:
    """0666 less the process's umask (read once: `os.umask` can only be read by setting it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


class Progress:
    """The units a run finished, with what each found (`DIR/collect.progress`)."""

    def __init__(self, root: Path, scope: dict[str, Any], resume: bool) -> None:
        self.path = root / PROGRESS
        self.scope = scope
        self.done: dict[str, Any] = {}
        self.resumed = False
        if resume:
            self.done, self.resumed = self._read()
        root.mkdir(parents=True, exist_ok=True)
        if not self.resumed:
            atomic_write(self.path, (json.dumps({"scope": scope}, sort_keys=True) + "\n").encode())

    def _read(self) -> tuple[dict[str, Any], bool]:
        lines = self._lines()
        if not lines:
            return {}, False
        try:
            head = json.loads(lines[0])
        except ValueError:
            return {}, False
        if head.get("scope") != json.loads(json.dumps(self.scope, sort_keys=True)):
            raise ScopeMismatch(head.get("scope"))
        done: dict[str, Any] = {}
        kept = lines[:1]
        for line in lines[1:]:
            try:
                entry = json.loads(line)
            except ValueError:
                break  # cut short by the crash: that unit runs again
            done[entry["unit"]] = entry["record"]
            kept.append(line)
        # the log again without a cut-short tail, so new lines start on a line of their own
        atomic_write(self.path, "".join(f"{line}\n" for line in kept).encode())
        return done, True

    def _lines(self) -> list[str]:
        try:
            return self.path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return []

    def finish(self, unit: str, record: Any) -> None:
        """Record a finished unit: one line, on disk before the next unit starts."""
        self.done[unit] = record
        line = json.dumps({"unit": unit, "record": record}, sort_keys=True) + "\n"
        with self.path.open("a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())

    def complete(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()


class ScopeMismatch(Exception):
    """`--resume` with other options than the run it would continue."""

    def __init__(self, scope: Any) -> None:
        super().__init__(scope)
        self.scope = scope

"""The results cache of estate runs: what earlier runs answered, for every unit whose
inputs are all unchanged (`ResultsCache`; its file is `kmsprove.inputs.results_store`).

Read and written by the client process only; workers compute. Keys are SHA-256 hashes
of everything that can change an answer:

- the code (`kmsprove.resources.code_digest`: kmsprove's version, its dependencies'
  versions and the bytes of every module, grammar and spec file);
- how worlds are read (`ReadOptions`: `--account`, `--region`...);
- the unit: its world file's path as given (reports print it) and the path and hash of
  every file it was read from (the world file, each document it names; a template or
  plan is one file), plus, for a slice of one world's keys, the keys of the slice;
- the question: for `check`, the expectation's text, the timeout and the trusted
  principals of an `ever` question; for `audit`, its options.

Which files a world reads is known only by reading it, so the cache holds one row per
world file, found by the hash of the world file alone: the sets of files its reader
read with their hashes (up to `_ALTERNATIVES`, the latest first), each with the unit's
number of keys, its reader's warnings and its entries (one per expectation, or the
audit). A re-run hashes each world file, fetches every row in one batch, hashes the
documents a set lists and, if every hash of a set is the same, serves its entries
without reading the world (the reader, given the same bytes, reads the same files).
One row per unit: fetching and decoding rows is most of a served run's time. Any
change makes a new set; stale rows are pruned by age.

Values are pickles of kmsprove's frozen result types, read back by an unpickler that
builds only kmsprove's dataclasses and enums (a cache file is never a way to run
code), each behind a hash of its bytes (a damaged row is recomputed, never served).
"""

from __future__ import annotations

import hashlib
import importlib
import io
import pickle
import sys
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, is_dataclass
from enum import Enum
from typing import Any, ClassVar, TypeGuard

from kmsprove.errors import Diagnostic, SourcePos, warning
from kmsprove.inputs.files import Source, file_digest
from kmsprove.inputs.options import ReadOptions
from kmsprove.inputs.results_store import Store, default_cache_path
from kmsprove.resources import code_digest

_DIGEST = 16  # bytes of SHA-256 before each value
_ALTERNATIVES = 8  # sets of sources remembered per world file

# A unit as the cache sees it: its world file; the ARNs of its keys when its world was
# loaded by the client (a slice, or a whole WORLD), None for a world file a worker
# reads; and the files it was read from (when known).
UnitFiles = tuple[str, tuple[str, ...] | None, tuple[Source, ...]]


def key_of(*parts: str) -> str:
    """One hash of `parts`, each length-prefixed so no two lists of parts collide."""
    h = hashlib.sha256()
    for p in parts:
        data = p.encode("utf-8", "surrogatepass")
        h.update(b"%d:" % len(data))
        h.update(data)
    return h.hexdigest()


# One set of sources a unit was read from: the sources, its number of keys and its
# reader's warnings, and its entries (name -> value) as the commands store them.
# (sources, keys, warnings, entries, read with the run's flags: `Unit.read_with_flags`)
Alternative = tuple[
    tuple[Source, ...], int, tuple[Diagnostic, ...], tuple[tuple[str, object], ...], bool
]
Head = tuple[int, tuple[Diagnostic, ...], bool]  # a unit's keys, warnings, flags read it


@dataclass(frozen=True)
class Found:
    """What the cache holds for a unit whose files are unchanged."""

    key: str  # the unit key (of its files, and a slice's keys)
    keys: int  # how many keys its world has
    warnings: tuple[Diagnostic, ...]  # what its reader said
    entries: Mapping[str, object]  # entry name -> value, as the command stored it
    read_with_flags: bool  # the run's reading flags read it again (`Unit.read_with_flags`)


def _is_row(value: object) -> TypeGuard[tuple[Alternative, ...]]:
    return isinstance(value, tuple) and all(
        isinstance(a, tuple)
        and len(a) == 5
        and isinstance(a[0], tuple)
        and a[0]
        and all(isinstance(s, tuple) and len(s) == 2 for s in a[0])
        and isinstance(a[1], int)
        and isinstance(a[2], tuple)
        and isinstance(a[3], tuple)
        and all(isinstance(e, tuple) and len(e) == 2 for e in a[3])
        and isinstance(a[4], bool)
        for a in value
    )


# The result types every command's values are made of; a command's own (the audit's
# findings) are imported by the command before it reads its rows.
_VOCABULARY = frozenset(
    f"kmsprove.{m}" for m in ("answer", "ast", "errors", "frozen", "request", "world")
)


class _Results(pickle.Unpickler):
    """Builds kmsprove's dataclasses and enums (of modules already imported) and the
    helper that rebuilds their read-only mappings; any other global is refused."""

    # (module, name) -> what find_class gave: a served run unpickles one row per world,
    # each naming the same twenty classes again
    _found: ClassVar[dict[tuple[str, str], Any]] = {}

    def find_class(self, module: str, name: str) -> Any:
        known = self._found.get((module, name))
        if known is None:
            known = self._found[module, name] = self._allowed(module, name)
        return known

    def _allowed(self, module: str, name: str) -> Any:
        if module in _VOCABULARY and module not in sys.modules:
            importlib.import_module(module)  # vocabulary: importing it does nothing else
        found = sys.modules.get(module) if module.startswith("kmsprove.") else None
        value = getattr(found, name, None)
        if module == "kmsprove.frozen" and name == "_rebuild":
            return value
        if (
            isinstance(value, type)
            and value.__module__.startswith("kmsprove.")
            and (is_dataclass(value) or issubclass(value, Enum))
        ):
            return value
        raise pickle.UnpicklingError(f"refused global {module}.{name}")


def encode(value: object) -> bytes:
    body = zlib.compress(pickle.dumps(value, protocol=5), 1)
    return hashlib.sha256(body).digest()[:_DIGEST] + body


def decode(data: bytes) -> object:
    """The value `encode` gave these bytes; `ValueError` for anything else."""
    body = data[_DIGEST:]
    if hashlib.sha256(body).digest()[:_DIGEST] != data[:_DIGEST]:
        raise ValueError("hash mismatch")
    try:
        return _Results(io.BytesIO(zlib.decompress(body))).load()
    except Exception as exc:  # whatever a damaged pickle raises: recompute
        raise ValueError(str(exc)) from None


class ResultsCache:
    """The cache of one run: look-ups in batches, writes gathered and stored at once
    (`flush`); every problem is a warning and a miss."""

    def __init__(self, store: Store, code: str, command: str = "check") -> None:
        self.store = store
        self.code = code
        self.command = command  # whose rows: `check` and `audit` keep theirs apart
        self._rows: list[tuple[str, bytes]] = []
        self._rows_found: dict[str, tuple[Alternative, ...]] = {}  # unit rows, as looked up
        self._used: list[str] = []
        self._damaged = 0

    @classmethod
    def open(cls, path: str | None, command: str = "check") -> ResultsCache:
        """The cache of `command` at `path`, or in kmsprove's own place
        (`default_cache_path`)."""
        owned = path is None
        where = default_cache_path() if path is None else path
        code = code_digest()
        return cls(Store.open(where, code, owned), code, command)

    @property
    def warnings(self) -> list[Diagnostic]:
        out = list(self.store.warnings)
        if self._damaged:
            n = self._damaged
            why = f"{n} damaged row{'s' if n > 1 else ''} not used (recomputed)"
            out.append(warning(SourcePos(self.store.path), f"results cache: {why}"))
        return out

    # -- units -------------------------------------------------------------

    def units(self, units: Sequence[UnitFiles], read: ReadOptions) -> list[Found | None]:
        """What the cache holds for each unit (one batch of look-ups, one row per unit):
        a world file's row is found by its own hash, and serves the first set of sources
        whose files all hash as they did; a loaded world's (a slice's) by the files it
        was read from and its keys. None: nothing (a new world, or a file changed)."""
        digests: dict[str, str | None] = {}
        rows: list[str | None] = []
        for world, keys, sources in units:
            if keys is None:
                digests[world] = file_digest(world)
                d = digests[world]
                rows.append(self._row_key(world, read, d, None) if d else None)
            else:
                rows.append(self._row_key(world, read, self._key(world, read, sources, keys), keys))
        found = self.lookup(r for r in rows if r)
        self._rows_found = {k: v for k, v in found.items() if _is_row(v)}
        out: list[Found | None] = []
        for (world, keys, _), row in zip(units, rows, strict=True):
            kept = self._rows_found.get(row or "", ())
            alt = kept[0] if keys is not None and kept else self._unchanged(world, kept, digests)
            out.append(
                None
                if alt is None
                else Found(
                    self._key(world, read, alt[0], keys), alt[1], alt[2], dict(alt[3]), alt[4]
                )
            )
        return out

    def store_unit(
        self,
        unit: UnitFiles,
        read: ReadOptions,
        head: Head,
        entries: Mapping[str, object],
    ) -> str:
        """Remember a unit computed from `sources` (what its reader read, which may have
        changed since `units`): its keys and warnings (`head`), and `entries` added to
        those its row held for the same sources; the other sets of sources seen with the
        same world file follow (a branch switched back and forth is served both ways).
        Its unit key."""
        world, keys, sources = unit
        key = self._key(world, read, sources, keys)
        row = self._row_key(world, read, sources[0][1] if keys is None else key, keys)
        kept = self._rows_found.get(row, ())
        same = [dict(a[3]) for a in kept if a[0] == tuple(sources)]
        merged = {**(same[0] if same else {}), **entries}
        alt: Alternative = (tuple(sources), head[0], head[1], tuple(merged.items()), head[2])
        others = [a for a in kept if a[0] != tuple(sources)]
        value = (alt, *others[: _ALTERNATIVES - 1])
        self._rows_found[row] = value
        self.remember(row, value)
        return key

    def _key(
        self,
        world: str,
        read: ReadOptions,
        sources: Sequence[Source],
        keys: Sequence[str] | None,
    ) -> str:
        flat = [x for s in sources for x in s]
        sliced = ["\0keys", *keys] if keys is not None else []
        return key_of("unit", self.code, repr(read), world, *flat, *sliced)

    def _row_key(self, world: str, read: ReadOptions, digest: str, keys: object) -> str:
        """A world file's row: by the hash of the world file alone; a slice's: by its
        unit key (`digest`). Each command has its own rows, so that reading one never
        needs another's result types."""
        kind = "world" if keys is None else "slice"
        return key_of(kind, self.command, self.code, repr(read), world, digest)

    def _unchanged(
        self, world: str, alternatives: Sequence[Alternative], digests: dict[str, str | None]
    ) -> Alternative | None:
        """The first alternative whose files all hash as they did when it was stored."""
        for alt in alternatives:
            if alt[0][0][0] != world:
                continue
            for path, digest in alt[0]:
                if path not in digests:
                    digests[path] = file_digest(path)  # a document worlds share: hashed once
                if digests[path] != digest:
                    break
            else:
                return alt
        return None

    # -- values ------------------------------------------------------------

    def lookup(self, keys: Iterable[str]) -> dict[str, object]:
        """The stored values of those keys that have one, decoded; a damaged row is a
        miss. Each hit counts as used (`flush`)."""
        wanted = list(dict.fromkeys(keys))
        out: dict[str, object] = {}
        for k, data in self.store.get(wanted).items():
            try:
                out[k] = decode(data)
            except ValueError:
                self._damaged += 1
                continue
            self._used.append(k)
        return out

    def remember(self, key: str, value: object) -> None:
        self._rows.append((key, encode(value)))

    def flush(self) -> None:
        """Store what was remembered, mark what was used, close the file."""
        self.store.put(self._rows, self._used)
        self._rows, self._used = [], []
        self.store.close()


__all__ = ["Found", "ResultsCache", "UnitFiles", "decode", "encode", "key_of"]

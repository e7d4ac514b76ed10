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

Which files a world reads is known only by reading it, so the first run stores a
manifest per world file (keyed by the world file's own hash): the files the reader
read, with their hashes (up to `_MANIFESTS` such sets, the latest first). A later run
hashes the world file, finds its manifest, hashes the documents it lists and, if every
hash of one set is the same, knows the unit's key without reading the world (the
reader, given the same bytes, reads the same files). Any change makes a new key; stale
rows are pruned by age.

Values are pickles of kmsprove's frozen result types, read back by an unpickler that
builds only kmsprove's dataclasses and enums (a cache file is never a way to run
code), each behind a hash of its bytes (a damaged row is recomputed, never served).
"""

from __future__ import annotations

import hashlib
import io
import pickle
import sys
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import is_dataclass
from enum import Enum
from typing import Any, TypeGuard

from kmsprove.errors import Diagnostic, SourcePos, warning
from kmsprove.inputs.files import Source, file_digest
from kmsprove.inputs.options import ReadOptions
from kmsprove.inputs.results_store import Store, default_cache_path
from kmsprove.resources import code_digest

_DIGEST = 16  # bytes of SHA-256 before each value
_MANIFESTS = 8  # sets of documents remembered per world file (its manifest)

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


def _is_manifest(value: object) -> TypeGuard[tuple[tuple[Source, ...], ...]]:
    return isinstance(value, tuple) and all(
        isinstance(sources, tuple)
        and sources
        and all(isinstance(s, tuple) and len(s) == 2 for s in sources)
        for sources in value
    )


class _Results(pickle.Unpickler):
    """Builds kmsprove's dataclasses and enums (of modules already imported) and the
    helper that rebuilds their read-only mappings; any other global is refused."""

    def find_class(self, module: str, name: str) -> Any:
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

    def __init__(self, store: Store, code: str) -> None:
        self.store = store
        self.code = code
        self._rows: list[tuple[str, bytes]] = []
        self._manifests: dict[str, tuple[tuple[Source, ...], ...]] = {}  # as looked up
        self._used: list[str] = []
        self._damaged = 0

    @classmethod
    def open(cls, path: str | None) -> ResultsCache:
        """The cache at `path`, or in kmsprove's own place (`default_cache_path`)."""
        owned = path is None
        where = default_cache_path() if path is None else path
        code = code_digest()
        return cls(Store.open(where, code, owned), code)

    @property
    def warnings(self) -> list[Diagnostic]:
        out = list(self.store.warnings)
        if self._damaged:
            n = self._damaged
            why = f"{n} damaged row{'s' if n > 1 else ''} not used (recomputed)"
            out.append(warning(SourcePos(self.store.path), f"results cache: {why}"))
        return out

    # -- keys --------------------------------------------------------------

    def unit_keys(self, units: Sequence[UnitFiles], read: ReadOptions) -> list[str | None]:
        """Each unit's key: a world file's from its manifest and its files' hashes now
        (None where no manifest matches: a new world, or a file changed); a loaded
        world's (or slice's) from the files it was read from and its keys."""
        files = [world for world, keys, _ in units if keys is None]
        found = iter(self._world_keys(files, read))
        return [
            next(found) if keys is None else self._key(world, read, sources, keys)
            for world, keys, sources in units
        ]

    def remember_unit(self, unit: UnitFiles, read: ReadOptions) -> str:
        """The key of a unit computed from `sources` (what its reader read, which may
        have changed since `unit_keys`); for a world file, its manifest is stored: these
        sources first, then the other sets of documents seen with the same world file
        (a branch switched back and forth is served both ways)."""
        world, keys, sources = unit
        if keys is None:
            mkey = self._manifest_key(world, read, sources[0][1])
            seen = [s for s in self._manifests.get(mkey, ()) if s != tuple(sources)]
            self.remember(mkey, (tuple(sources), *seen[: _MANIFESTS - 1]))
        return self._key(world, read, sources, keys)

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

    def _manifest_key(self, world: str, read: ReadOptions, digest: str) -> str:
        return key_of("manifest", self.code, repr(read), world, digest)

    def _world_keys(self, worlds: Sequence[str], read: ReadOptions) -> list[str | None]:
        digests = {w: file_digest(w) for w in worlds}
        wanted = {w: self._manifest_key(w, read, d) for w, d in digests.items() if d}
        found = self.lookup(wanted.values())
        self._manifests = {k: v for k, v in found.items() if _is_manifest(v)}
        return [
            self._matching(w, read, self._manifests.get(wanted.get(w, ""), ()), digests)
            for w in worlds
        ]

    def _matching(
        self,
        world: str,
        read: ReadOptions,
        manifest: tuple[tuple[Source, ...], ...],
        digests: dict[str, str | None],
    ) -> str | None:
        """The unit key of `world` from the first set of sources in its manifest whose
        files are all unchanged."""
        for sources in manifest:
            if sources[0][0] != world:
                continue
            for path, digest in sources:
                if path not in digests:
                    digests[path] = file_digest(path)  # a document worlds share: hashed once
                if digests[path] != digest:
                    break
            else:
                return self._key(world, read, sources, None)
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


__all__ = ["ResultsCache", "UnitFiles", "decode", "encode", "key_of"]

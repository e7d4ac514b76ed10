"""Data files shipped with kmsprove: `specs/*.json` (and `grammar/*.lark`, shipped for
reference: the parsers run from `kmsprove.syntax.lark_standalone`, generated from them).

Installed, they are the subpackages `kmsprove.grammar` and `kmsprove.specs`
(see pyproject.toml), folders beside these modules. Imported from a source checkout
that shadows the installed package (pytest puts the repository first on sys.path),
they are read from the top of the checkout. (Plain paths, not importlib.resources:
kmsprove is installed as files, never zipped, and importlib.resources costs a query
about 4 ms of start-up: tempfile, shutil, the compression modules.) `code_digest` fingerprints all of kmsprove's code and
data (the results cache's notion of "the same kmsprove").
"""

from __future__ import annotations

import sys
from pathlib import Path


def read_data(folder: str, name: str) -> str:
    return (_data_dir(folder) / name).read_text("utf-8")


# What else decides an answer besides kmsprove's own files: its solver and its YAML
# parser (the lark parsers are generated into kmsprove/syntax, hashed with the modules).
_DEPENDENCIES = ("z3-solver", "PyYAML")


def _data_dir(folder: str) -> Path:
    here = Path(__file__).resolve().parent
    installed = here / folder
    return installed if installed.is_dir() else here.parent / folder


def code_digest() -> str:
    """The SHA-256 of what kmsprove answers with: its version, the Python and dependency
    versions, and the bytes of every module, grammar and spec file it loads, so that a
    release and a developer's edit alike change it (the results cache keys by it)."""
    # start-up: importlib.metadata (about 10 ms: email, csv, zipfile...) and hashlib
    # (OpenSSL, about 4 ms), only for the cache
    import hashlib
    import importlib.metadata

    h = hashlib.sha256()
    for name in ("kmsprove", *_DEPENDENCIES):
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            version = "-"
        h.update(f"{name}={version}\n".encode())
    h.update(f"python={sys.version_info[0]}.{sys.version_info[1]}\n".encode())
    package = Path(__file__).resolve().parent
    # the data folders are subpackages once installed, top-level folders in a checkout:
    # their files are hashed by folder, the same either way
    files = [
        (f"kmsprove/{p.relative_to(package)}", p)
        for p in package.rglob("*.py")
        if p.relative_to(package).parts[0] not in ("grammar", "specs")
    ]
    for folder, pattern in (("grammar", "*.lark"), ("specs", "*.json")):
        files += [(f"{folder}/{p.name}", p) for p in _data_dir(folder).glob(pattern)]
    for name, path in sorted(files):
        data = path.read_bytes()
        h.update(f"{name} {len(data)}\n".encode())
        h.update(data)
    return h.hexdigest()

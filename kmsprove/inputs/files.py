"""Reading files: the only module that opens what the user gives (STYLE.md: `inputs/`
is the only package that reads files), and writes what the user asks for (a SARIF log,
witness files). Every problem is a positioned `InputError`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from kmsprove.errors import InputError, SourcePos
from kmsprove.syntax.json import decode_bytes, parse_json
from kmsprove.syntax.tree import JNode

MAX_FILE_BYTES = (
    64 * 1024 * 1024
)  # far above any AWS document; a 20 MB world with 50,000 grants fits


# A file an input was read from: (its path as opened, the SHA-256 of the bytes read).
# The results cache keys a world's answers by every one of them (`kmsprove.questions.cache`).
Source = tuple[str, str]


def read_text(
    path: str | Path, display: str | None = None, sources: list[Source] | None = None
) -> str:
    """The UTF-8 text of a file; any problem is a positioned `InputError`. With
    `sources`, the file and the hash of the bytes read are added to it."""
    name = display or str(path)
    p = Path(path)
    here = SourcePos(name, 1, 1)
    if not p.exists():
        raise InputError.at(here, "no such file")
    if p.is_dir():
        raise InputError.at(here, "is a directory, not a file")
    try:
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError.at(
                here, f"file is {size} bytes, larger than the {MAX_FILE_BYTES} bytes kmsprove reads"
            )
        data = p.read_bytes()
    except OSError as exc:
        raise InputError.at(here, f"cannot read file: {exc.strerror or exc}") from None
    if sources is not None:
        # start-up: hashlib loads OpenSSL (about 4 ms), only for the results cache
        import hashlib

        sources.append((str(path), hashlib.sha256(data).hexdigest()))
    return decode_bytes(data, name)


def file_digest(path: str) -> str | None:
    """The SHA-256 of a file's bytes now (as `read_text` records it); None when it cannot
    be read (the reader would say why)."""
    import hashlib  # start-up: only for the results cache, as in read_text

    try:
        with open(path, "rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()
    except OSError:
        return None


def parse_file(path: str | Path, display: str | None = None) -> JNode:
    return parse_json(read_text(path, display), display or str(path))


def head_bytes(path: Path, size: int = 1_000_000) -> bytes:
    """The first bytes of a file, to tell what it is without parsing it (directory scans)."""
    with path.open("rb") as f:
        return f.read(size)


def write_text(path: str, text: str) -> None:
    """Write one file the user asked for (`--sarif-output`, a witness file)."""
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    except OSError as exc:
        raise InputError.at(SourcePos(path), f"cannot write: {exc.strerror}") from None


def write_atomic(path: str, text: str) -> None:
    """Write one file the user asked for (`graph --output`) whole or not at all: into a
    temporary file beside it, then renamed over it."""
    import tempfile  # start-up: with shutil, random and the compression modules, ~2 ms

    where = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".kmsprove-", dir=where)
    except OSError as exc:
        raise InputError.at(SourcePos(path), f"cannot write: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text + "\n")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # as `open` would have made it, not mkstemp's 0600
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise InputError.at(SourcePos(path), f"cannot write: {exc.strerror}") from None


def write_witnesses(
    directory: str, witnesses: Sequence[Mapping[str, str] | None]
) -> list[str | None]:
    """Write each witness's files (name -> text) under `directory`, in a numbered
    subdirectory each when there are several; where each went, None for a None."""
    several = sum(w is not None for w in witnesses) > 1
    out: list[str | None] = []
    for n, found in enumerate(witnesses, 1):
        if found is None:
            out.append(None)
            continue
        where = os.path.join(directory, str(n)) if several else directory
        try:
            os.makedirs(where, exist_ok=True)
        except OSError as exc:
            raise InputError.at(SourcePos(where), f"cannot write: {exc.strerror}") from None
        for name, text in found.items():
            write_text(os.path.join(where, name), text.rstrip("\n"))
        out.append(where)
    return out

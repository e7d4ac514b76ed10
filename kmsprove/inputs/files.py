"""Reading files: the only module that opens what the user gives (STYLE.md: `inputs/`
is the only package that reads files). Every problem is a positioned `InputError`.
"""

from __future__ import annotations

from pathlib import Path

from kmsprove.errors import InputError, SourcePos
from kmsprove.syntax.json import decode_bytes, parse_json
from kmsprove.syntax.tree import JNode

MAX_FILE_BYTES = (
    64 * 1024 * 1024
)  # far above any AWS document; a 20 MB world with 50,000 grants fits


def read_text(path: str | Path, display: str | None = None) -> str:
    """The UTF-8 text of a file; any problem is a positioned `InputError`."""
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
    return decode_bytes(data, name)


def parse_file(path: str | Path, display: str | None = None) -> JNode:
    return parse_json(read_text(path, display), display or str(path))


def head_bytes(path: Path, size: int = 1_000_000) -> bytes:
    """The first bytes of a file, to tell what it is without parsing it (directory scans)."""
    with path.open("rb") as f:
        return f.read(size)

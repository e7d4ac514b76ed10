"""Report stage: `validate`'s diagnostics -> text lines or the JSON document."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kmsprove.errors import Diagnostic


def diagnostics_json(diags: Sequence[Diagnostic]) -> dict[str, Any]:
    return {
        "valid": not any(d.is_error for d in diags),
        "diagnostics": [
            {
                "file": d.pos.file,
                "line": d.pos.line,
                "col": d.pos.col,
                "severity": d.severity.value,
                "message": d.message,
            }
            for d in diags
        ],
    }


def validate_summary(files: int, diags: Sequence[Diagnostic]) -> str:
    """The line `validate` prints when no file has an error."""
    return f"{files} file(s) valid" + (f", {len(diags)} warning(s)" if diags else "")

"""Source positions and diagnostics shared by every stage.

A `Diagnostic` is one line for the user: `FILE:LINE:COL: error: MESSAGE`.
`InputError` carries every diagnostic found so the CLI can print them all and
exit 2 without a traceback.
"""

from __future__ import annotations

import difflib
import enum
from collections.abc import Iterable
from dataclasses import dataclass

MAX_DIAGNOSTICS = 50


@dataclass(frozen=True, slots=True, order=True)
class SourcePos:
    """A 1-based line and column in a named file (or `<query>`, `<cli>`)."""

    file: str
    line: int = 1
    col: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class Severity(enum.Enum):
    ERROR = "error"  # the input is rejected
    WARNING = "warning"  # AWS accepts it, but it is almost surely a mistake


@dataclass(frozen=True, slots=True)
class Diagnostic:
    pos: SourcePos
    severity: Severity
    message: str

    def __str__(self) -> str:
        # one line per problem, whatever the input held
        return f"{self.pos}: {self.severity.value}: {one_line(self.message)}"

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


def one_line(text: str) -> str:
    """`text` with non-printable characters escaped (`\\n`), so a message stays one line."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def printable(diags: Iterable[Diagnostic]) -> list[Diagnostic]:
    """The diagnostics with control characters of user values escaped (one line each)."""
    return [
        d if d.message.isprintable() else Diagnostic(d.pos, d.severity, one_line(d.message))
        for d in diags
    ]


def suggest(name: str, options: Iterable[str]) -> str:
    """` (did you mean `X`?)` for the closest option (a case-insensitive match first), or ``."""
    opts = list(options)
    for o in opts:
        if o.lower() == name.lower():
            return f" (did you mean `{o}`?)"
    close = difflib.get_close_matches(name, opts, n=1)
    return f" (did you mean `{close[0]}`?)" if close else ""


def error(pos: SourcePos, message: str) -> Diagnostic:
    return Diagnostic(pos, Severity.ERROR, message)


def warning(pos: SourcePos, message: str) -> Diagnostic:
    return Diagnostic(pos, Severity.WARNING, message)


def sort_diagnostics(diags: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Sorted by position, duplicates removed, cut at MAX_DIAGNOSTICS."""
    unique = sorted(set(diags), key=lambda d: (d.pos, d.severity.value, d.message))
    if len(unique) > MAX_DIAGNOSTICS:
        cut = unique[:MAX_DIAGNOSTICS]
        cut.append(error(unique[MAX_DIAGNOSTICS].pos, "too many errors, stopping here"))
        return cut
    return unique


class InputError(Exception):
    """Bad input: the diagnostics say where and why. The CLI exits 2."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics = sort_diagnostics(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))

    @classmethod
    def at(cls, pos: SourcePos, message: str) -> InputError:
        return cls([error(pos, message)])

    @classmethod
    def at_cli(cls, message: str) -> InputError:
        """A problem with the command line itself (`<cli>:1:1: error: ...`)."""
        return cls([error(SourcePos("<cli>", 1, 1), message)])

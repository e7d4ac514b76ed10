"""Inputs: a file being read (`Peek`), what it held (`Loaded`), and a row of the
formats table (`Format`, `kmsprove.inputs.FORMATS`).

A `Peek` parses its text once, as JSON and, for a file that is not JSON, as YAML
(templates are often YAML), and carries the `ReadOptions` a reader may need.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from kmsprove.ast import Grant, Policy
from kmsprove.errors import Diagnostic, InputError
from kmsprove.inputs.files import Source
from kmsprove.inputs.options import NO_OPTIONS, ReadOptions
from kmsprove.request import Request
from kmsprove.syntax.json import parse_json
from kmsprove.syntax.tree import JNode
from kmsprove.world import World

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass
class Peek:
    """A file being read: its text, and its JSON (or YAML) tree once a format asks."""

    path: str
    text: str
    tree: JNode | None = None  # already parsed (an in-memory document)
    problems: list[Diagnostic] = field(default_factory=list)  # why it is not JSON
    options: ReadOptions = NO_OPTIONS  # what the reader is told besides the file
    yaml_problems: list[Diagnostic] = field(default_factory=list)  # why it is not YAML
    # every file read so far, this one first, then the documents it names (`read_text`)
    sources: list[Source] = field(default_factory=list)

    @cached_property
    def json(self) -> JNode | None:
        if self.tree is not None:
            return self.tree
        try:
            return parse_json(self.text, self.path)
        except InputError as exc:
            self.problems = list(exc.diagnostics)
            return None

    @cached_property
    def yaml(self) -> JNode | None:
        """The YAML tree of a file that is not JSON (templates are often YAML)."""
        if self.tree is not None or self.json is not None:
            return None
        # start-up: PyYAML (about 10 ms), only for a file that is not JSON
        from kmsprove.syntax.yaml import parse_yaml

        try:
            return parse_yaml(self.text, self.path)
        except InputError as exc:
            self.yaml_problems = list(exc.diagnostics)
            return None

    @property
    def looks_like_yaml(self) -> bool:
        """Its syntax errors are YAML's: a `.yaml` name, or text not opening as JSON does."""
        head = self.text.lstrip()[:1]
        return self.path.lower().endswith(YAML_SUFFIXES) or head not in ("{", "[", "")

    def syntax_problems(self) -> list[Diagnostic]:
        """Why the file is neither JSON nor YAML."""
        if self.looks_like_yaml and self.yaml is None:
            return self.yaml_problems
        return self.problems


@dataclass(frozen=True)
class Loaded:
    """What a file held, as its kind: a `World`, a `Policy`, grants; and every problem."""

    kind: str
    value: World | Policy | list[Grant] | Request | None
    diagnostics: tuple[Diagnostic, ...]
    format: str = ""  # the `Format` that read it
    sources: tuple[Source, ...] = ()  # every file it was read from, itself first

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]


@dataclass(frozen=True)
class Format:
    name: str
    kinds: tuple[str, ...]  # the `--kind` values it can be read as
    sniff: Callable[[Peek], str | None]  # the kind it holds, or None: not this format
    load: Callable[[Peek, str], Loaded]
    hint: re.Pattern[bytes] | None = None  # a cheap test on a file's head (directory scans)
    template: bool = False  # a deploy-time template: read from YAML too, told ReadOptions

"""The generated parsers (`kmsprove/syntax/lark_standalone.py`) are what the grammars give:
tools/generate_parsers.py, run again here with the pinned lark, writes the same module,
so a grammar edited without regenerating fails."""

from __future__ import annotations

import difflib
import hashlib
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from kmsprove.syntax import lark_standalone

ROOT = Path(__file__).resolve().parents[2]
HOW = "run `python tools/generate_parsers.py` after editing a grammar or upgrading lark"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "generate_parsers", ROOT / "tools" / "generate_parsers.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_each_parser_was_generated_from_its_grammar_as_it_is() -> None:
    for name in ("json", "query"):
        text = (ROOT / "grammar" / f"{name}.lark").read_bytes()
        assert lark_standalone.GRAMMAR_SHA256[name] == hashlib.sha256(text).hexdigest(), HOW


def test_generating_again_writes_the_same_module() -> None:
    import lark

    assert lark.__version__ == lark_standalone.__version__, HOW
    generated = _generator().generate()
    committed = (ROOT / "kmsprove" / "syntax" / "lark_standalone.py").read_text("utf-8")
    if generated != committed:
        diff = difflib.unified_diff(
            committed.splitlines(), generated.splitlines(), "committed", "generated", lineterm=""
        )
        pytest.fail(f"{HOW}:\n" + "\n".join(line[:200] for line in list(diff)[:30]))

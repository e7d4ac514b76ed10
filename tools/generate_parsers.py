"""Developer script: grammar/*.lark -> kmsprove/syntax/lark_standalone.py, the parsers
kmsprove runs: lark's standalone LALR runtime, once, and each grammar's analysed tables.

    python tools/generate_parsers.py            # rewrite the module
    python tools/generate_parsers.py --check    # exit 1 when it is not what the grammars give

Run it after editing a grammar or upgrading lark (the `test` and `dev` extras pin the
lark that wrote the module); tests/syntax/test_lark_standalone.py fails until you do.
kmsprove then never analyses a grammar at run time (about 40 ms a process) and does not
import lark at all: the module is self-contained.

The output is the same on every run: lark numbers parser states and terminals in the
order it meets them in sets (so by hash seed and object id); they are renumbered here
in a fixed order (terminals by name, states breadth first from each start symbol),
which changes no behaviour, the numbers being opaque to the parser.

The runtime is `python -m lark.tools.standalone`'s (MPL-2.0, as its header says),
with three changes that only drop imports: no `regex` (a grammar using it would need
`regex=True`, which these do not; its import costs 10 ms where it is installed), no
`pickle` (the standalone parser is never saved or cached), and `logging` imported when
lark first logs (only while analysing a grammar or using a cache, never while parsing;
its import costs about 5 ms).
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import os
import sys
from functools import partial
from pathlib import Path
from typing import Any

import lark
from lark.grammar import Rule
from lark.lexer import TerminalDef
from lark.tools import standalone

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "kmsprove" / "syntax" / "lark_standalone.py"

# name -> (grammar file, the `lark.Lark` options kmsprove parses it with)
GRAMMARS: dict[str, tuple[str, dict[str, Any]]] = {
    "json": ("json.lark", {"lexer": "basic", "maybe_placeholders": False}),
    "query": (
        "query.lark",
        {"lexer": "contextual", "maybe_placeholders": True, "start": ["start", "who_start"]},
    ),
}

_REGEX_IMPORT = """try:
    import regex
    _has_regex = True
except ImportError:
    _has_regex = False
"""
_NO_REGEX = "_has_regex = False  ## kmsprove: no `regex` (tools/generate_parsers.py)\n"
# lark logs only while analysing a grammar or using a cache: `logging` on first use
_LOGGER = """class _Logger:  ## kmsprove: `logging` imported when lark first logs (tools/generate_parsers.py)
    def __getattr__(self, name):
        import logging
        logger = logging.getLogger("lark")
        if not logger.handlers:
            logger.addHandler(logging.StreamHandler())
            logger.setLevel(logging.CRITICAL)
        return getattr(logger, name)

logger = _Logger()
"""
_LAZY_LOGGING = (  # in this order: _LOGGER holds the first two texts
    ("import logging\n", ""),
    ("logger.setLevel(logging.CRITICAL)\n", ""),
    (
        'logger: logging.Logger = logging.getLogger("lark")\n'
        "logger.addHandler(logging.StreamHandler())\n",
        _LOGGER,
    ),
)


def runtime() -> str:
    """lark's standalone runtime, as `lark.tools.standalone.gen_standalone` writes it."""
    parts = []
    for i, pyfile in enumerate(standalone.EXTRACT_STANDALONE_FILES):
        with open(os.path.join(standalone._larkdir, pyfile)) as f:
            code = standalone.extract_sections(f)["standalone"]
        if i:  # every file but the tool's own (its licence and imports)
            code = standalone.strip_docstrings(partial(next, iter(code.splitlines(True))))
        parts.append(code + "\n")
    text = "".join(parts)
    for old, new in ((_REGEX_IMPORT, _NO_REGEX), *_LAZY_LOGGING):
        if text.count(old) != 1:
            raise SystemExit(f"lark's runtime changed: no single {old!r} to replace")
        text = text.replace(old, new)
    return text


def renumbered(table: dict[str, Any]) -> dict[str, Any]:
    """A serialized LALR table with terminals numbered by name and states breadth first
    from the start symbols (in name order), each state's moves by terminal name."""
    names: dict[int, str] = table["tokens"]
    token_of = {name: i for i, name in enumerate(sorted(names.values()))}
    states: dict[int, dict[int, tuple[int, Any]]] = table["states"]
    order: dict[int, int] = {}
    queue = [table["start_states"][s] for s in sorted(table["start_states"])]
    while queue:
        state = queue.pop(0)
        if state in order:
            continue
        order[state] = len(order)
        for _, (action, arg) in sorted(states[state].items(), key=lambda kv: names[kv[0]]):
            if action == 0:  # shift: arg is the next state
                queue.append(arg)
    if len(order) != len(states):
        raise SystemExit("a parser state no start symbol reaches: lark's table format changed?")

    def moves(state: int) -> dict[int, tuple[int, Any]]:
        out = {}
        for tok, (action, arg) in sorted(states[state].items(), key=lambda kv: names[kv[0]]):
            out[token_of[names[tok]]] = (action, order[arg] if action == 0 else arg)
        return out

    return {
        "tokens": {i: name for name, i in token_of.items()},
        "states": {order[s]: moves(s) for s in sorted(states, key=order.__getitem__)},
        "start_states": {s: order[v] for s, v in sorted(table["start_states"].items())},
        "end_states": {s: order[v] for s, v in sorted(table["end_states"].items())},
    }


def tables(name: str) -> tuple[str, dict[str, Any], dict[Any, Any]]:
    """A grammar's sha256, and its analysed tables (lark's `memo_serialize`)."""
    file, options = GRAMMARS[name]
    text = (ROOT / "grammar" / file).read_text("utf-8")
    parser = lark.Lark(text, parser="lalr", **options)
    data, memo = parser.memo_serialize([TerminalDef, Rule])
    frontend = data["parser"]
    if set(frontend["parser"]) != {"tokens", "states", "start_states", "end_states"}:
        raise SystemExit(f"lark's serialized parser changed: {sorted(frontend['parser'])}")
    frontend["parser"] = renumbered(frontend["parser"])
    return hashlib.sha256(text.encode("utf-8")).hexdigest(), data, memo


def generate() -> str:
    """The text of kmsprove/syntax/lark_standalone.py."""
    files = " and ".join(f"grammar/{file}" for file, _ in GRAMMARS.values())
    head = [
        f"# Generated by tools/generate_parsers.py from {files} with Lark v{lark.__version__}:",
        "# do not edit; run the script again after editing a grammar",
        "# (tests/syntax/test_lark_standalone.py checks). The standalone parser cannot be",
        "# saved or cached (no `pickle`): `load_parser` builds each one from its tables.",
        f'__version__ = "{lark.__version__}"',
        "",
        runtime(),
        "GRAMMAR_SHA256 = {}",
        "DATA = {}",
        "MEMO = {}",
    ]
    for name in GRAMMARS:
        digest, data, memo = tables(name)
        head += [
            f"GRAMMAR_SHA256[{name!r}] = {digest!r}",
            f"DATA[{name!r}] = {data!r}",
            f"MEMO[{name!r}] = {memo!r}",
        ]
    head += [
        "Shift = 0",
        "Reduce = 1",
        "",
        "def load_parser(name: str) -> Lark:",
        '    """The parser of grammar/NAME.lark, with the options it was generated with."""',
        "    return Lark._load_from_dict(DATA[name], MEMO[name])",
        "",
    ]
    return "\n".join(head)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="compare, do not write")
    a = ap.parse_args()
    text = generate()
    if not a.check:
        OUT.write_text(text, "utf-8")
        print(f"wrote {OUT.relative_to(ROOT)}")
        return
    old = OUT.read_text("utf-8") if OUT.exists() else ""
    if old != text:
        diff = difflib.unified_diff(
            old.splitlines(), text.splitlines(), "committed", "generated", lineterm="", n=1
        )
        print("\n".join(list(diff)[:40]))
        sys.exit(f"{OUT.relative_to(ROOT)} is out of date: run python tools/generate_parsers.py")


if __name__ == "__main__":
    main()

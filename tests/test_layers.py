"""The tree's own rules, read from its source (the layer contracts are import-linter's,
run by `.ci/run`): one place asks the solver, imports sit at the top of modules, and
the installed package lists every subpackage."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "kmsprove"


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_only_the_solve_package_asks_z3() -> None:
    """A z3 check result is read in `kmsprove/solve/` only (REDESIGN.md P5), so no
    other code can mistake "unknown" for "no"."""
    found = []
    for path in _modules():
        if path.parent.name == "solve":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in (
                "Solver",
                "SolverFor",
                "Optimize",
                "SimpleSolver",
            ):
                found.append(f"{_relative(path)}:{node.lineno}: z3.{node.attr}")
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("check", "unsat_core", "reason_unknown")
                and "z3" in path.read_text()
            ):
                found.append(f"{_relative(path)}:{node.lineno}: .{node.func.attr}()")
    assert found == []


def test_no_solver_is_pushed() -> None:
    """`Solver.push()` propagates with no time limit armed (a CI run hung there for an
    hour): scopes are assumption literals (`kmsprove.solve.session`)."""
    found = [
        f"{_relative(path)}:{node.lineno}"
        for path in _modules()
        if "import z3" in path.read_text()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "push"
    ]
    assert found == []


def test_only_encode_text_converts_strings_for_z3() -> None:
    """`z3.StringVal` reads escapes and `as_string()` writes them, so a backslash in a
    policy or a character Z3 escapes in a witness would become other text: every
    conversion goes through `kmsprove/encode/text.py`, which keeps characters exact
    (`z3.Re` of a Z3 term is no conversion; of a Python string it is)."""
    found = []
    for path in _modules():
        if _relative(path) == "kmsprove/encode/text.py":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute):
                continue
            by_z3 = isinstance(node.value, ast.Name) and node.value.id == "z3"
            if node.attr == "as_string" or (by_z3 and node.attr == "StringVal"):
                found.append(f"{_relative(path)}:{node.lineno}: .{node.attr}")
        for call in ast.walk(tree):
            f = call.func if isinstance(call, ast.Call) else None
            if (
                isinstance(f, ast.Attribute)
                and f.attr == "Re"
                and isinstance(f.value, ast.Name)
                and f.value.id == "z3"
                and any(isinstance(a, ast.Constant) for a in call.args)  # type: ignore[union-attr]
            ):
                found.append(f"{_relative(path)}:{call.lineno}: z3.Re of a literal")
    assert found == []


def test_function_level_imports_of_kmsprove_say_what_they_save() -> None:
    """Imports sit at the top; only the CLI defers a command's stages to when it runs,
    under a comment that says what it saves (start-up)."""
    offenders = []
    for path in _modules():
        lines = path.read_text().split("\n")
        tree = ast.parse("\n".join(lines))
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if not isinstance(node, (ast.Import, ast.ImportFrom)):
                    continue
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                names += [a.name for a in node.names] if isinstance(node, ast.Import) else []
                if not any(n.startswith("kmsprove") for n in names):
                    continue
                # the comment above the block of imports this one belongs to
                i = node.lineno - 2
                while i >= 0 and lines[i].strip().startswith(("from ", "import ")):
                    i -= 1
                above = lines[i] if i >= 0 else ""
                if (path.parent.name != "cli" and path.name != "cli.py") or "start-up" not in above:
                    offenders.append(f"{_relative(path)}:{node.lineno}")
    assert offenders == []


def test_the_install_lists_every_subpackage() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    on_disk = {".".join(p.relative_to(ROOT).parent.parts) for p in PACKAGE.rglob("__init__.py")}
    assert on_disk <= listed, sorted(on_disk - listed)


def test_no_module_is_over_400_lines() -> None:
    long = {_relative(p): n for p in _modules() if (n := p.read_text().count("\n")) > 400}
    assert long == {}


def test_the_cli_offers_what_diff_compares() -> None:
    from kmsprove.cli import DIFF_KINDS
    from kmsprove.inputs import KINDS as INPUT_KINDS
    from kmsprove.questions.diff import KINDS

    assert set(DIFF_KINDS.choices) == set(KINDS)
    assert set(KINDS) <= set(INPUT_KINDS)


def test_the_public_api_resolves() -> None:
    import kmsprove

    for name in kmsprove.__all__:
        assert callable(getattr(kmsprove, name)), name

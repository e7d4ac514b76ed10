"""Data files shipped with kmsprove: `specs/*.json` (and `grammar/*.lark`, shipped for
reference: the parsers run from `kmsprove.syntax.lark_standalone`, generated from them).

Installed, they are the subpackages `kmsprove.grammar` and `kmsprove.specs`
(see pyproject.toml). Imported from a source checkout that shadows the
installed package (pytest puts the repository first on sys.path), they are
read from the top of the checkout.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def read_data(folder: str, name: str) -> str:
    try:
        return resources.files(f"kmsprove.{folder}").joinpath(name).read_text("utf-8")
    except ModuleNotFoundError:
        return (Path(__file__).resolve().parent.parent / folder / name).read_text("utf-8")

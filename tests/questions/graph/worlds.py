"""The worlds the graph tests draw, from AWS documentation policies
(tests/data/graph/README.md), loaded as the CLI loads them, with paths relative to the
repository root so the file:line of each edge reads as a reviewer sees it."""

from __future__ import annotations

import os
from pathlib import Path

from kmsprove.inputs.key_policy_world import load_world_input
from kmsprove.questions.graph import Edge, Graph, build_graph
from kmsprove.questions.graph.model import place_text
from kmsprove.world import World

ROOT = Path(__file__).resolve().parents[3]

WORLDS = {
    "default": "tests/data/graph/default/world.json",
    "console": "tests/cases/realworld/console-default.json",
    "cross-account": "examples/cross-account/world.json",
    "grants": "tests/data/graph/grants/world.json",
    "service": "tests/data/graph/service/key-policy.json",
    "ebs": "tests/cases/realworld/aws-managed-ebs.json",
}

KEY_W = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_E = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def load(name: str) -> World:
    """The world, read from the repository root (its positions relative to it)."""
    here = os.getcwd()
    os.chdir(ROOT)
    try:
        return load_world_input(WORLDS[name]).world
    finally:
        os.chdir(here)


def graph_of(name: str, **kw: object) -> Graph:
    return build_graph(load(name), **kw)  # type: ignore[arg-type]


def row(e: Edge) -> tuple[str, str, str, str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """An edge as the tests compare it."""
    return (
        e.kind.value,
        e.source,
        e.target,
        e.through,
        e.operations,
        tuple(place_text(p) for p in e.where),
        e.conditions,
    )


def short_ops(*names: str) -> tuple[str, ...]:
    return tuple(sorted(f"kms:{n}" for n in names))

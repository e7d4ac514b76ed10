"""Build policies from plain dicts and list what `check_policy` says about them."""

from __future__ import annotations

import json
from typing import Any

from kmsprove.ast import Policy, PolicyKind
from kmsprove.errors import Diagnostic
from kmsprove.syntax.json import parse_json
from kmsprove.syntax.policy import build_policy
from kmsprove.validate import check_policy

KP = PolicyKind.KEY_POLICY
ROOT = "arn:aws:iam::111122223333:root"


def stmt(**fields: Any) -> dict[str, Any]:
    """A key-policy statement that is valid unless `fields` change it (None removes)."""
    base: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"AWS": ROOT},
        "Action": "kms:Decrypt",
        "Resource": "*",
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def id_stmt(**fields: Any) -> dict[str, Any]:
    """An identity-policy statement (no Principal)."""
    return stmt(Principal=None, **fields)


def policy(doc: Any, kind: PolicyKind = KP) -> Policy:
    text = doc if isinstance(doc, str) else json.dumps(doc)
    built, diags = build_policy(parse_json(text, "p.json"), kind, "p.json")
    assert built is not None, diags
    assert not [d for d in diags if d.is_error], diags
    return built


def diags_of(*statements: dict[str, Any], kind: PolicyKind = KP, **top: Any) -> list[Diagnostic]:
    doc = {"Version": "2012-10-17", "Statement": list(statements), **top}
    return check_policy(policy(doc, kind))


def problems(*statements: dict[str, Any], kind: PolicyKind = KP, **top: Any) -> set[str]:
    """`severity: message` of every diagnostic (positions tested separately)."""
    return {f"{d.severity.value}: {d.message}" for d in diags_of(*statements, kind=kind, **top)}

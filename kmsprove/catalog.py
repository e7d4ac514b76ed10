"""Service model stage: `specs/*.json` -> action facts; wildcards expand here.

The catalogue is data (kms-semantics.md R3); this module only reads it and
answers questions about it. Action matching is case-insensitive with `*` and
`?` over the whole name (R3.6).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from kmsprove.resources import read_data


@dataclass(frozen=True, slots=True)
class ActionInfo:
    name: str  # `kms:Decrypt`
    resource: str  # key | alias+key | * | custom-key-store
    where: str  # key-policy | retire | iam-only | service-only
    cross_account: bool  # R3.2
    grant_operation: bool  # R3.4
    encryption_context: bool  # takes an encryption context (R4.5)
    condition_keys: tuple[str, ...]  # R5.2; `prefix*` stands for any suffix

    @property
    def short(self) -> str:
        return self.name.split(":", 1)[1]

    @property
    def on_key(self) -> bool:
        """Authorized against a key, so a key policy can allow it."""
        return self.resource in ("key", "alias+key")


def _load(name: str) -> Any:
    return json.loads(read_data("specs", name))


@cache
def kms_catalog() -> dict[str, ActionInfo]:
    """Every KMS action, keyed by lower-cased full name (`kms:decrypt`)."""
    data = _load("kms-actions.json")
    out = {}
    for short, facts in data["actions"].items():
        info = ActionInfo(
            name=f"kms:{short}",
            resource=facts["resource"],
            where=facts["where"],
            cross_account=facts["cross_account"],
            grant_operation=facts["grant_operation"],
            encryption_context=facts["encryption_context"],
            condition_keys=tuple(facts["condition_keys"]),
        )
        out[info.name.lower()] = info
    return out


@cache
def key_usage_operations() -> dict[str, frozenset[str]]:
    data = _load("kms-actions.json")["key_usage_operations"]
    return {k: frozenset(v) for k, v in data.items()}


@cache
def s3_facts() -> dict[str, Any]:
    return _load("s3-and-managed-keys.json")  # type: ignore[no-any-return]


def action_info(action: str) -> ActionInfo | None:
    return kms_catalog().get(action.lower())


def canonical_action(action: str) -> str:
    """AWS's spelling of a known KMS action (`KMS:decrypt` -> `kms:Decrypt`)."""
    info = action_info(action)
    return info.name if info else action


def grant_operations() -> tuple[str, ...]:
    return tuple(sorted(i.short for i in kms_catalog().values() if i.grant_operation))


@cache
def _glob(pattern: str) -> re.Pattern[str]:
    parts = []
    for ch in pattern:
        if ch == "*":
            parts.append(".*")
        elif ch == "?":
            parts.append(".")
        else:
            parts.append(re.escape(ch))
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def action_matches(pattern: str, action: str) -> bool:
    """Whether an Action entry covers an action: case-insensitive glob (R3.6)."""
    return _glob(pattern).fullmatch(action) is not None


def expand(pattern: str) -> tuple[str, ...]:
    """The catalogue's KMS actions a pattern covers (`kms:Gen*` -> six actions)."""
    return tuple(sorted(i.name for i in kms_catalog().values() if action_matches(pattern, i.name)))

"""How each rule's answers become findings (`RUNNERS`, by the table's `check`), and one
key's audit: every rule of the table, in table order (`audit_key`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from kmsprove.questions.audit.access import run_deputy, run_escalation, run_yes
from kmsprove.questions.audit.context import KeyAudit
from kmsprove.questions.audit.findings import AuditFinding
from kmsprove.questions.audit.proofs import (
    run_inert,
    run_lockout,
    run_s3_alias,
    run_s3_managed,
)
from kmsprove.questions.audit.rules import Rule
from kmsprove.questions.audit.table import RULES
from kmsprove.questions.audit.zone import run_admins, run_inzone

Runner = Callable[[KeyAudit, Rule], list[AuditFinding]]
RUNNERS: Mapping[str, Runner] = MappingProxyType(
    {
        "yes": run_yes,
        "deputy": run_deputy,
        "escalation": run_escalation,
        "inzone": run_inzone,
        "admins": run_admins,
        "lockout": run_lockout,
        "inert": run_inert,
        "s3-alias": run_s3_alias,
        "s3-managed": run_s3_managed,
    }
)


def audit_key(ctx: KeyAudit, only: tuple[str, ...] = ()) -> list[AuditFinding]:
    """Every rule's findings on one key (`only`: just these rules)."""
    out: list[AuditFinding] = []
    for rule in RULES:
        if not only or rule.id in only:
            out += RUNNERS[rule.check](ctx, rule)
    return out


__all__ = ["RUNNERS", "audit_key"]

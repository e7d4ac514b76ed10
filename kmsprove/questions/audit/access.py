"""Rules whose "yes" is the pitfall, asked of the world as given: access from outside the
zone of trust per class of operation, public access, AWS services acting for any
account (the confused deputy), and escalation over time (`ever`, with --trust).
"""

from __future__ import annotations

from kmsprove.answer import Verdict
from kmsprove.questions.audit.context import (
    KeyAudit,
    ask_over_time,
    ask_today,
    gated,
    settles,
)
from kmsprove.questions.audit.findings import AuditFinding, from_yes
from kmsprove.questions.audit.rules import Rule
from kmsprove.questions.audit.table import RULES

# how many service principals one key's confused-deputy rule names, one question each
MAX_SERVICES = 8


def run_yes(ctx: KeyAudit, rule: Rule) -> list[AuditFinding]:
    """One finding per question the solver answers yes (or cannot answer). These rules
    ask about IAM principals outside the zone: when none can call any action of the
    plain ones (no `where`, no grant calls: `gated`), one proof settles them all."""
    gate = None
    if gated(rule):
        outside = [r for r in RULES if r.check == "yes"]
        gate = ctx.gate("outside", ctx.world, f"any iam principal {ctx.zone.outside}", outside)
    out = []
    for template in rule.asks:
        text = ctx.fill(template)
        answer = settles(gate, text) if gate is not None else None
        if answer is None:
            answer = ask_today(ctx.world, text, ctx.key, ctx.options.timeout)
        found = from_yes(rule, ctx.world, ctx.key, text, answer)
        if found is not None:
            out.append(found)
    return out


def named_services(ctx: KeyAudit) -> set[str]:
    """The service principals the key's policies and grants name."""
    key = ctx.key
    named = {
        pr.value
        for p in key.policies
        for st in p.statements
        for pr in st.principal or ()
        if pr.kind == "Service"
    }
    return named | {s for g in key.grants for s in (g.grantee_service, g.grantee) if s}


def run_deputy(ctx: KeyAudit, rule: Rule) -> list[AuditFinding]:
    """One finding per service principal that can use the key with nothing tying it to
    the zone: asked again with each named service found barred, until the solver proves
    no other service can. A service nobody names stands for every service (a statement
    for `*`): one finding for all of them."""
    out: list[AuditFinding] = []
    found: tuple[str, ...] = ()
    named = named_services(ctx)
    text = ctx.fill(rule.asks[0])
    for _ in range(MAX_SERVICES):
        answer = ask_today(ctx.world, text, ctx.key, ctx.options.timeout, exclude=found)
        r = answer.counterexample
        service = r.principal if r is not None and answer.verdict is Verdict.YES else ""
        anyone = bool(service) and service not in named
        finding = from_yes(
            rule,
            ctx.world,
            ctx.key,
            text,
            answer,
            subject="any service principal" if anyone else service,
            message=_deputy_message(ctx, service, r.action if r else "", anyone),
        )
        if finding is None:
            return out
        out.append(finding)
        if not service or anyone or service in found:
            return out  # unknown, every service at once, or nothing more to learn
        found = (*found, service)
    return out


def _deputy_message(ctx: KeyAudit, service: str, action: str, anyone: bool) -> str:
    accounts = ", ".join(ctx.zone.accounts)
    who = f"any service principal (here {service})" if anyone else service
    return (
        f"{who} may call {action} with no aws:SourceAccount or aws:SourceArn tying it"
        f" to {accounts}: it may act for any account's resources"
    )


def run_escalation(ctx: KeyAudit, rule: Rule) -> list[AuditFinding]:
    """A trace by which a principal outside the zone comes to decrypt (a "yes" with no
    steps is today's access: the external-decrypt finding)."""
    if not ctx.options.trusted:
        return ctx.skip(
            rule, "give --trust ARN for the principals trusted to change who uses the key"
        )
    out = []
    for template in rule.asks:
        text = ctx.fill(template)
        answer = ask_over_time(ctx.world, text, ctx.key, ctx.options.timeout, ctx.options.trusted)
        if answer.verdict is Verdict.YES and not answer.trace:
            continue
        steps = len(answer.trace)
        r = answer.counterexample
        message = (
            f"after {steps} step{'s' if steps != 1 else ''}, {r.principal} may call {r.action}"
            if r
            else ""
        )
        found = from_yes(rule, ctx.world, ctx.key, text, answer, message=message)
        if found is not None:
            out.append(found)
    return out


__all__ = ["run_deputy", "run_escalation", "run_yes"]

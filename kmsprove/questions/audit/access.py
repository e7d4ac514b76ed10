"""Rules whose "yes" is the pitfall, asked of the world as given: access from outside the
zone of trust per class of operation, public access, AWS services acting for any
account (the confused deputy), and escalation over time (`ever`, with --trust).
"""

from __future__ import annotations

from kmsprove.answer import Verdict
from kmsprove.questions.audit.context import KeyAudit, ask_over_time, ask_today
from kmsprove.questions.audit.findings import AuditFinding, from_yes
from kmsprove.questions.audit.rules import Rule

# how many service principals one key's confused-deputy rule names, one question each
MAX_SERVICES = 8


def run_yes(ctx: KeyAudit, rule: Rule) -> list[AuditFinding]:
    """One finding per question the solver answers yes (or cannot answer)."""
    out = []
    for template in rule.asks:
        text = ctx.fill(template)
        answer = ask_today(ctx.world, text, ctx.key, ctx.options.timeout)
        found = from_yes(rule, ctx.world, ctx.key, text, answer)
        if found is not None:
            out.append(found)
    return out


def run_deputy(ctx: KeyAudit, rule: Rule) -> list[AuditFinding]:
    """One finding per service principal that can use the key with nothing tying it to
    the zone: asked again with each service found barred, until the solver proves no
    other service can."""
    out: list[AuditFinding] = []
    found: tuple[str, ...] = ()
    text = ctx.fill(rule.asks[0])
    for _ in range(MAX_SERVICES):
        answer = ask_today(ctx.world, text, ctx.key, ctx.options.timeout, exclude=found)
        r = answer.counterexample
        service = r.principal if r is not None and answer.verdict is Verdict.YES else ""
        finding = from_yes(
            rule,
            ctx.world,
            ctx.key,
            text,
            answer,
            subject=service,
            message=_deputy_message(ctx, service, r.action if r else ""),
        )
        if finding is None:
            return out
        out.append(finding)
        if not service or service in found:
            return out  # an unknown (or the same service again): nothing more to learn
        found = (*found, service)
    return out


def _deputy_message(ctx: KeyAudit, service: str, action: str) -> str:
    accounts = ", ".join(ctx.zone.accounts)
    return (
        f"{service} may call {action} with no aws:SourceAccount or aws:SourceArn tying it"
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

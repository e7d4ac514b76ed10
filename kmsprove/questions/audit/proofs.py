"""Rules whose proved "no" is the pitfall: nobody can ever change the key policy
(lockout, over `ever`), a statement gives another account operations that never work
across accounts (inert), a bucket shared with other accounts under an AWS managed key;
and a bucket whose default key is named by alias (the composed read is then unknown).
"""

from __future__ import annotations

from kmsprove.arn import key_arn_parts, parse_caller, partition_of
from kmsprove.ast import Effect, Statement
from kmsprove.catalog import action_info, action_matches, expand
from kmsprove.errors import InputError
from kmsprove.evaluate import evaluate
from kmsprove.evaluate.context import complete_request
from kmsprove.evaluate.match import arn_like
from kmsprove.questions.ask import ask
from kmsprove.questions.audit.context import KeyAudit, ask_over_time, ask_today
from kmsprove.questions.audit.findings import (
    AuditFinding,
    Status,
    from_no,
    is_synthetic,
    key_policy_ref,
)
from kmsprove.questions.audit.rules import Rule, parsed, question
from kmsprove.request import Request, StatementRef
from kmsprove.world import Bucket, Key, World

SHOWN_ACTIONS = 6  # actions a message lists before "and N more"


def root_keeps_control(world: World, key: Key) -> bool:
    """Whether the key's account root may put the key's own policy back (the evaluator,
    on that one request): the quick way to see a key is not locked (R7.1, R7.2)."""
    root = f"arn:{partition_of(key.arn)}:iam::{key.account}:root"
    req = Request(root, "kms:PutKeyPolicy", key=key.arn, new_policy=key.policy)
    try:
        return evaluate(world, complete_request(world, req)).allowed
    except InputError:
        return False


def run_lockout(ctx: KeyAudit, rule: Rule) -> list[AuditFinding]:
    if ctx.key.manager != "CUSTOMER":
        return ctx.skip(rule, "an AWS managed key's policy is AWS's to keep (R7.5)")
    text = ctx.fill(rule.asks[0])
    if root_keeps_control(ctx.world, ctx.key):
        return []  # a request the evaluator allows: someone can, so no lockout
    answer = ask_over_time(ctx.world, text, ctx.key, ctx.options.timeout)
    about = tuple(r for r in (key_policy_ref(ctx.key),) if r is not None)
    message = "no principal can ever call kms:PutKeyPolicy: the key can no longer be managed"
    found = from_no(rule, ctx.key.arn, text, answer, message, about)
    return [found] if found is not None else []


def _inert_actions(st: Statement) -> tuple[str, ...]:
    """The statement's KMS key operations that never work across accounts (R3.2)."""
    names: list[str] = []
    for pattern in st.action or ():
        if pattern == "*" or pattern.lower().startswith("kms:"):
            names += expand(pattern)
    out = []
    for n in dict.fromkeys(names):
        info = action_info(n)
        if info and info.on_key and info.where == "key-policy" and not info.cross_account:
            out.append(info.name)
    return tuple(out)


def _covers_key(st: Statement, key: Key) -> bool:
    """An identity statement's Resource covers the key (variables: not claimed)."""
    return st.resource is not None and any(
        "${" not in r and arn_like(r, key.arn) for r in st.resource
    )


def _listed(actions: tuple[str, ...]) -> str:
    head = ", ".join(actions[:SHOWN_ACTIONS])
    more = len(actions) - SHOWN_ACTIONS
    return head + (f" and {more} more" if more > 0 else "")


def _inert_targets(world: World, key: Key) -> list[tuple[str, Statement, str, tuple[str, ...]]]:
    """(who, statement, where, inert actions): key-policy statements naming principals
    of other accounts, and identity statements of other accounts' principals on the key."""
    out = []
    for policy in key.policies:
        for st in policy.statements:
            actions = _inert_actions(st) if st.effect is Effect.ALLOW else ()
            if not actions:
                continue
            for pr in st.principal or ():
                c = parse_caller(pr.value)
                if pr.kind != "AWS" or c.account in (None, key.account):
                    continue
                if c.kind == "root":
                    out.append((f"any principal in account {c.account}", st, pr.value, actions))
                elif c.kind in ("user", "role", "assumed-role"):
                    out.append((f"principal {pr.value}", st, pr.value, actions))
    for acct in sorted(world.accounts):
        if acct == key.account:
            continue
        for arn, ident in sorted(world.accounts[acct].principals.items()):
            for p in ident.policies:
                for st in p.statements:
                    if st.effect is Effect.ALLOW and _covers_key(st, key):
                        actions = _inert_actions(st)
                        if actions:
                            out.append((f"principal {arn}", st, arn, actions))
    return out


def run_inert(ctx: KeyAudit, rule: Rule) -> list[AuditFinding]:
    """A finding per (statement, principal) proved never to get the inert operations."""
    out = []
    for who, st, principal, actions in _inert_targets(ctx.world, ctx.key):
        text = ctx.fill(rule.asks[0], who=who, actions=", ".join(actions))
        answer = ask_today(ctx.world, text, ctx.key, ctx.options.timeout)
        ref = StatementRef.at(st.sid, st.pos, True, "Allow", "gives them to another account")
        about = (ref,) if not is_synthetic(st.pos.file) else ()
        message = (
            f"gives {principal} {_listed(actions)}, which never work across accounts:"
            " proved never allowed"
        )
        subject = f"{st.sid or ''}|{principal}|{','.join(actions)}"
        found = from_no(rule, ctx.key.arn, text, answer, message, about, subject)
        if found is not None:
            out.append(found)
    return out


# --------------------------------------------------------------------------
# S3 buckets encrypted under the key (seed 001)


def buckets_of(world: World, key: Key) -> list[Bucket]:
    """The buckets whose default encryption names `key` (by ARN, alias or key id)."""
    out = []
    for b in world.buckets:
        ref = b.kms_key or ""
        if key_arn_parts(ref) is not None:
            named = ref == key.arn
        elif ":alias/" in ref:
            named = (found := world.find_key(ref)) is not None and found.arn == key.arn
        else:  # an alias name or key id, resolved in the bucket's account (10.2)
            named = bool(ref) and b.account == key.account and ref in (*key.aliases, key.key_id)
        if named:
            out.append(b)
    return out


def keyless_buckets(world: World) -> list[Bucket]:
    """SSE-KMS buckets whose default key no key of the world is."""
    return [
        b
        for b in world.buckets
        if b.kms_key and not any(b in buckets_of(world, k) for k in world.keys)
    ]


def _bucket_ref(b: Bucket) -> tuple[StatementRef, ...]:
    if is_synthetic(b.pos.file):
        return ()
    return (StatementRef.at(None, b.pos, True, "Allow", "the bucket"),)


def alias_finding(world: World, rule: Rule, b: Bucket, key: str, timeout: float) -> AuditFinding:
    text = question(rule.asks[0], bucket=b.arn, bucket_account=b.account)
    answer = ask(world, parsed(text), timeout)[0]
    return AuditFinding(
        rule,
        Status.FOUND,
        key,
        b.arn,
        f"bucket {b.arn} names its default key `{b.kms_key}`, not a key ARN",
        text,
        answer,
        _bucket_ref(b),
        (f"the composed read is {answer.verdict.value}: {answer.reason}",),
    )


def run_s3_alias(ctx: KeyAudit, rule: Rule) -> list[AuditFinding]:
    return [
        alias_finding(ctx.world, rule, b, ctx.key.arn, ctx.options.timeout)
        for b in buckets_of(ctx.world, ctx.key)
        if key_arn_parts(b.kms_key or "") is None
    ]


def _shared_reads(b: Bucket) -> list[Statement]:
    """Bucket-policy Allow statements that let another account (or anyone) read."""
    out = []
    for st in b.policy.statements if b.policy else ():
        if st.effect is not Effect.ALLOW or not any(
            action_matches(a, "s3:GetObject") for a in st.action or ()
        ):
            continue
        if any(
            pr.is_wildcard or parse_caller(pr.value).account not in (None, b.account)
            for pr in st.principal or ()
        ):
            out.append(st)
    return out


def run_s3_managed(ctx: KeyAudit, rule: Rule) -> list[AuditFinding]:
    if ctx.key.manager != "AWS":
        return []
    out = []
    for b in buckets_of(ctx.world, ctx.key):
        shared = _shared_reads(b)
        if not shared or key_arn_parts(b.kms_key or "") is None:
            continue
        text = question(rule.asks[0], bucket=b.arn, bucket_account=b.account)
        answer = ask(ctx.world, parsed(text), ctx.options.timeout)[0]
        about = tuple(
            StatementRef.at(st.sid, st.pos, True, "Allow", "lets another account read")
            for st in shared
            if not is_synthetic(st.pos.file)
        )
        message = (
            f"the policy of bucket {b.arn} lets other accounts read, but its objects are"
            f" under the AWS managed key {ctx.key.arn}: every such read fails (R8.5)"
        )
        found = from_no(rule, ctx.key.arn, text, answer, message, about, b.arn)
        if found is not None:
            out.append(found)
    return out


__all__ = [
    "alias_finding",
    "buckets_of",
    "keyless_buckets",
    "run_inert",
    "run_lockout",
    "run_s3_alias",
    "run_s3_managed",
]

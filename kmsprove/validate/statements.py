"""AST stage, validation: actions, resources, Sids and size of a policy (R1.11, R3, R4.10).

`Policy` / `Statement` -> `Diagnostic`s. Actions and resources have no
position of their own in the AST, so their problems sit on the statement and
name the value.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from kmsprove.ast import Effect, Policy, PolicyKind, Statement
from kmsprove.catalog import action_info, action_matches, expand, kms_catalog
from kmsprove.errors import Diagnostic, error, suggest, warning
from kmsprove.validate.principals import KIND_LABEL

_expand = cache(expand)  # the same few patterns recur in thousands of policies
ACTION_RE = re.compile(r"[A-Za-z0-9*?-]+:[A-Za-z0-9*?]+")
SID_RE = re.compile(r"[A-Za-z0-9]*")
ALNUM_SID_KINDS = (PolicyKind.IDENTITY, PolicyKind.SESSION, PolicyKind.SCP)
# IAM and S3 reject a policy whose Sids repeat; KMS and Organizations do not say.
UNIQUE_SID_KINDS = (PolicyKind.IDENTITY, PolicyKind.SESSION, PolicyKind.TRUST, PolicyKind.BUCKET)

KEY_POLICY_BYTES = 32_768  # R4.10, R7.1
# Characters without whitespace (AWS does not count it), so these are lower bounds.
INLINE_USER_CHARS, MANAGED_CHARS, INLINE_ROLE_CHARS = 2_048, 6_144, 10_240
ORG_POLICY_CHARS = 5_120  # SCPs and RCPs
BUCKET_POLICY_BYTES = 20_480

INERT_IN_KEY_POLICY = {
    "iam-only": "is allowed only by IAM policies",
    "service-only": "is used only by KMS's service-linked role",
    "retire": "is decided by the grant, not the key policy",
}


# -- actions -----------------------------------------------------------------


def _kms_action_problems(a: str, element: str, kind: PolicyKind, pos: Any) -> list[Diagnostic]:
    wildcard = "*" in a or "?" in a
    matches = _expand(a)
    if not matches:
        if wildcard:
            return [warning(pos, f"`{a}` matches no KMS action")]
        names = [i.name for i in kms_catalog().values()]
        return [warning(pos, f"action `{a}` does not exist" + suggest(a, names))]
    out: list[Diagnostic] = []
    infos = [action_info(m) for m in matches]
    wheres = {i.where for i in infos if i is not None}
    if kind is PolicyKind.KEY_POLICY and element == "Action" and "key-policy" not in wheres:
        if len(matches) == 1 and not wildcard:
            why = INERT_IN_KEY_POLICY[wheres.pop()]
            out.append(warning(pos, f"`{a}` {why}: in a key policy it has no effect"))
        else:
            out.append(
                warning(pos, f"`{a}` covers only actions that have no effect in a key policy")
            )
    if kind is PolicyKind.RCP and not wildcard and matches == ("kms:RetireGrant",):
        out.append(warning(pos, f"an RCP cannot restrict `{a}`: this entry has no effect"))
    return out


def action_problems(st: Statement, kind: PolicyKind) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for element, entries in (("Action", st.action), ("NotAction", st.not_action)):
        for a in entries or ():
            if a == "*":
                continue
            if not ACTION_RE.fullmatch(a):
                out.append(
                    error(
                        st.pos,
                        f"`{a}` is not an action: expected `SERVICE:ACTION` "
                        "(such as `kms:Decrypt`) or `*`",
                    )
                )
                continue
            service = a.split(":", 1)[0]
            if service.lower() == "kms":
                out.extend(_kms_action_problems(a, element, kind, st.pos))
            elif (
                kind is PolicyKind.KEY_POLICY
                and element == "Action"
                and not action_matches(service, "kms")
            ):
                out.append(
                    warning(st.pos, f"`{a}` is not a KMS action: in a key policy it has no effect")
                )
    if st.action is None and st.not_action is None:
        if kind is PolicyKind.KEY_POLICY:
            out.append(
                warning(
                    st.pos,
                    "statement has no `Action` or `NotAction`: KMS accepts it, but it never applies",
                )
            )
        else:
            out.append(error(st.pos, "statement has no `Action` or `NotAction`"))
    return out


# -- resources ---------------------------------------------------------------


def _resource_entry(r: str, element: str, policy: Policy, st: Statement) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    fields = r.split(":", 5)
    if r != "*" and (fields[0] != "arn" or len(fields) != 6):
        out.append(
            error(
                st.pos,
                f"`{r}` is not a resource ARN: expected `*` or "
                "`arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`",
            )
        )
    elif policy.variables_enabled and "${" in ":".join(fields[:5]):
        out.append(
            warning(
                st.pos,
                f"`{r}`: policy variables are substituted only in the resource part of an ARN, "
                "so this entry matches nothing",
            )
        )
    if policy.version == "2008-10-17" and "${" in r:
        out.append(
            warning(
                st.pos,
                f'`{r}` holds a policy variable, but under `"Version": "2008-10-17"` '
                "it is literal text",
            )
        )
    if policy.kind is PolicyKind.KEY_POLICY and element == "Resource" and r != "*":
        out.append(
            warning(
                st.pos,
                f'key policy `Resource` `{r}` is not `"*"`: in a key policy `"*"` means '
                "this key, and other values may match nothing",
            )
        )
    return out


def resource_problems(st: Statement, policy: Policy) -> list[Diagnostic]:
    kind = policy.kind
    out: list[Diagnostic] = []
    for element, entries in (("Resource", st.resource), ("NotResource", st.not_resource)):
        if entries is None:
            continue
        if kind is PolicyKind.TRUST:
            out.append(error(st.pos, f"a trust policy cannot have `{element}`"))
            continue
        if kind is PolicyKind.KEY_POLICY and element == "NotResource":
            out.append(
                warning(
                    st.pos,
                    "`NotResource` in a key policy: the only resource is this key; "
                    'write `"Resource": "*"`',
                )
            )
        for r in entries:
            out.extend(_resource_entry(r, element, policy, st))
    if st.resource is None and st.not_resource is None and kind is not PolicyKind.TRUST:
        if kind is PolicyKind.KEY_POLICY:
            out.append(
                warning(
                    st.pos,
                    "statement has no `Resource` or `NotResource`: KMS accepts it, "
                    "but it never applies",
                )
            )
        else:
            out.append(error(st.pos, "statement has no `Resource` or `NotResource`"))
    return out


# -- RCPs --------------------------------------------------------------------


def rcp_problems(st: Statement) -> list[Diagnostic]:
    """Customer RCPs can only Deny; Allow is reserved to `RCPFullAWSAccess` (R1.10)."""
    full_access = (
        st.action == ("*",)
        and st.resource == ("*",)
        and not st.conditions
        and st.principal is not None
        and all(p.is_wildcard for p in st.principal)
    )
    if st.effect is Effect.ALLOW and not full_access:
        return [
            error(
                st.pos,
                'an RCP statement can only `Deny`: `"Effect": "Allow"` is reserved to '
                "`RCPFullAWSAccess` (Principal, Action and Resource `*`, no Condition)",
            )
        ]
    return []


# -- Sids --------------------------------------------------------------------


def sid_problems(policy: Policy) -> list[Diagnostic]:
    kind = policy.kind
    make_dup = error if kind in UNIQUE_SID_KINDS else warning
    seen: dict[str, Statement] = {}
    out: list[Diagnostic] = []
    for st in policy.statements:
        if st.sid is None:
            continue
        if kind in ALNUM_SID_KINDS and not SID_RE.fullmatch(st.sid):
            out.append(
                error(
                    st.pos,
                    f"`Sid` `{st.sid}`: in {KIND_LABEL[kind]} a `Sid` may hold only "
                    "ASCII letters and digits",
                )
            )
        first = seen.get(st.sid)
        if first is not None and st.sid:
            out.append(
                make_dup(
                    st.pos,
                    f"duplicate `Sid` `{st.sid}` "
                    f"(first at line {first.pos.line}, column {first.pos.col})",
                )
            )
        seen.setdefault(st.sid, st)
    return out


# -- size --------------------------------------------------------------------


def _principal_json(entries: Any) -> Any:
    if entries and entries[0].kind == "*":
        return "*"
    out: dict[str, list[str]] = {}
    for p in entries:
        out.setdefault(p.kind, []).append(p.value)
    return out


def policy_json(policy: Policy) -> str:
    """A compact JSON text for the policy (lower bound of its stored size)."""
    statements = []
    for st in policy.statements:
        doc: dict[str, Any] = {"Effect": st.effect.value}
        if st.sid is not None:
            doc["Sid"] = st.sid
        for name, entries in (("Principal", st.principal), ("NotPrincipal", st.not_principal)):
            if entries is not None:
                doc[name] = _principal_json(entries)
        for name, values in (
            ("Action", st.action),
            ("NotAction", st.not_action),
            ("Resource", st.resource),
            ("NotResource", st.not_resource),
        ):
            if values is not None:
                doc[name] = list(values)
        if st.conditions:
            cond: dict[str, dict[str, list[str]]] = {}
            for c in st.conditions:
                cond.setdefault(c.operator, {})[c.key] = list(c.values)
            doc["Condition"] = cond
        statements.append(doc)
    top: dict[str, Any] = {"Statement": statements}
    if policy.version is not None:
        top["Version"] = policy.version
    if policy.id is not None:
        top["Id"] = policy.id
    return json.dumps(top, separators=(",", ":"), ensure_ascii=False)


def _chars(text: str) -> int:
    """Characters that are not whitespace (AWS does not count whitespace)."""
    return sum(map(len, text.split()))


def size_problems(policy: Policy, text: str | None) -> list[Diagnostic]:
    """Size limits; `text` is the document as stored, else a compact rendering counts."""
    kind = policy.kind
    body = text if text is not None else policy_json(policy)
    pos = policy.pos
    if kind is PolicyKind.KEY_POLICY:
        n = len(body.encode("utf-8"))
        if n > KEY_POLICY_BYTES:
            return [error(pos, f"key policy is {n:,} bytes, more than the 32,768 KMS accepts")]
        return []
    n = _chars(body)
    if kind in (PolicyKind.SCP, PolicyKind.RCP) and n > ORG_POLICY_CHARS:
        name = "an SCP" if kind is PolicyKind.SCP else "an RCP"
        return [error(pos, f"{name} holds at most 5,120 characters; this one has {n:,}")]
    if kind is PolicyKind.BUCKET and n > BUCKET_POLICY_BYTES:
        return [error(pos, f"a bucket policy holds at most 20 KB; this one has {n:,} characters")]
    if kind is PolicyKind.IDENTITY:
        head = f"identity policy has {n:,} characters without whitespace"
        if n > INLINE_ROLE_CHARS:
            tail = "more than any identity policy may hold (inline role 10,240, managed 6,144, inline user 2,048)"
        elif n > MANAGED_CHARS:
            tail = "more than a managed policy (6,144) or an inline user policy (2,048) may hold"
        elif n > INLINE_USER_CHARS:
            tail = "more than an inline user policy may hold (2,048)"
        else:
            return []
        return [warning(pos, f"{head}, {tail}")]
    return []

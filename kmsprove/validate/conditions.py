"""AST stage, validation: condition blocks (R5, R6).

`Condition` -> `Diagnostic`s: key names (unknown `kms:` keys, multi-valued
keys without a set operator), value types per operator family, policy
variables where AWS does not substitute them. Positioned at the condition's
value (`Condition.pos`).
"""

from __future__ import annotations

import difflib
import re
from functools import cache

from kmsprove.ast import Condition, PolicyKind, SetOp
from kmsprove.catalog import (
    absent_in_key_policies,
    extra_kms_keys,
    grant_operations,
    is_multi_valued,
    kms_catalog,
    single_valued_keys,
)
from kmsprove.errors import Diagnostic, error, suggest, warning
from kmsprove.operators import OPERATORS
from kmsprove.request import EC_PREFIX

# the kms: keys with a prefix (`kms:EncryptionContext:`) that need a suffix
TYPED_FAMILIES = ("Numeric", "Date", "Bool", "Binary", "Ip", "Null")  # no policy variables


@cache
def kms_condition_keys() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(exact names, prefixes) of every documented `kms:` condition key, AWS spelling.

    Prefixes keep their trailing colon: `kms:EncryptionContext:`.
    """
    names: set[str] = set(extra_kms_keys())
    for info in kms_catalog().values():
        names.update(k for k in info.condition_keys if k.startswith("kms:"))
    exact = tuple(sorted(n for n in names if not n.endswith("*")))
    prefixes = tuple(sorted(n[:-1] for n in names if n.endswith("*")))
    return exact, prefixes


def _is_known_kms_key(low: str) -> bool:
    exact, prefixes = kms_condition_keys()
    return low in {e.lower() for e in exact} or any(low.startswith(p.lower()) for p in prefixes)


def _kms_key_hint(key: str) -> str:
    exact, prefixes = kms_condition_keys()
    _, _, tail = key.partition(":")
    name, colon, rest = tail.partition(":")
    if colon:
        close = difflib.get_close_matches(f"kms:{name}:", prefixes, n=1)
        if close:
            return f" (did you mean `{close[0]}{rest}`?)"
    return suggest(key, exact)


def is_single_valued(low: str) -> bool:
    """Known single-valued: documented keys that are not multi-valued."""
    if is_multi_valued(low):
        return False
    if low.startswith("kms:"):
        return _is_known_kms_key(low)
    single, prefixes = single_valued_keys()
    return low in single or low.startswith(prefixes)


def _key_problems(c: Condition, kind: PolicyKind) -> list[Diagnostic]:
    low = c.key.lower()
    out: list[Diagnostic] = []
    if "${" in c.key:
        out.append(
            warning(
                c.pos, f"policy variables are not substituted in condition key names: `{c.key}`"
            )
        )
    if low == EC_PREFIX:
        out.append(
            error(
                c.pos, f"`{c.key}` needs an encryption context key after `kms:EncryptionContext:`"
            )
        )
    elif low.startswith("kms:") and not _is_known_kms_key(low):
        out.append(warning(c.pos, f"unknown KMS condition key `{c.key}`" + _kms_key_hint(c.key)))
    if kind is PolicyKind.KEY_POLICY and absent_in_key_policies(low):
        out.append(
            warning(
                c.pos,
                f"`{c.key}` is available only in IAM policies: in a key policy it is always absent",
            )
        )
    return out


def _set_operator_problems(c: Condition, kind: PolicyKind) -> list[Diagnostic]:
    low = c.key.lower()
    if c.set_op is SetOp.FOR_ALL_VALUES and (
        (low.startswith(EC_PREFIX) and low != EC_PREFIX) or low.startswith("aws:requesttag/")
    ):
        make = error if kind is PolicyKind.KEY_POLICY else warning
        return [
            make(
                c.pos,
                f"`ForAllValues` on `{c.key}` also holds when the key is absent: "
                "KMS rejects it in key policies (OverlyPermissiveCondition)",
            )
        ]
    if c.set_op is not None and is_single_valued(low):
        return [
            warning(
                c.pos,
                f"set operator `{c.set_op.value}` on single-valued key `{c.key}`: "
                f"use `{c.operator.split(':', 1)[1]}`",
            )
        ]
    if c.set_op is None and c.base != "Null" and is_multi_valued(low):
        return [
            warning(
                c.pos,
                f"`{c.key}` is multi-valued: use `ForAnyValue:` or `ForAllValues:`; "
                f"kmsprove reads `{c.operator}` as `ForAnyValue:{c.operator}`",
            )
        ]
    return []


def value_type_problem(family: str, base: str, v: str) -> str | None:
    """Why `v` cannot be a value of operator `base` (of `family`, R6.4), or None."""
    op = OPERATORS[base]
    assert op.family == family, (family, base)
    return op.value_problem(v)


def _grant_operation_problem(c: Condition, v: str) -> str | None:
    ops = grant_operations()
    if c.base in ("StringLike", "StringNotLike") and ("*" in v or "?" in v):
        if any(_glob_case_sensitive(v, op) for op in ops):
            return None
        folded = any(_glob_case_sensitive(v.lower(), op.lower()) for op in ops)
        return f"`{v}` matches no grant operation" + (
            " (values are case-sensitive)" if folded else ""
        )
    if c.base in ("StringLike", "StringNotLike"):
        ok = v in ops
    elif c.base.endswith("IgnoreCase"):
        ok = v.lower() in {op.lower() for op in ops}
    else:
        ok = v in ops
    if ok:
        return None
    bare = v.split(":", 1)[1] if v.lower().startswith("kms:") else v
    return f"`{v}` is not a grant operation" + suggest(bare, ops)


def _glob_case_sensitive(pattern: str, op: str) -> bool:
    """StringLike: `*` any run, `?` one character, case-sensitive (R6.2)."""
    body = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.fullmatch(body, op, re.DOTALL) is not None


def _value_problems(c: Condition) -> list[Diagnostic]:
    family = OPERATORS[c.base].family
    out: list[Diagnostic] = []
    grant_ops = c.key.lower() == "kms:grantoperations" and family == "String"
    for v in c.values:
        if "${" in v:
            if family in TYPED_FAMILIES:
                out.append(
                    error(c.pos, f"policy variables are not allowed in `{c.base}` values: `{v}`")
                )
            continue
        problem = value_type_problem(family, c.base, v)
        if problem is not None:
            out.append(error(c.pos, problem))
        elif family == "Arn" and v != "*" and len(v.split(":", 5)) != 6:
            out.append(
                warning(
                    c.pos,
                    f"`{v}` is not an ARN: `{c.base}` compares the six `:`-separated fields "
                    "of ARNs, so it never matches",
                )
            )
        elif grant_ops:
            problem = _grant_operation_problem(c, v)
            if problem is not None:
                out.append(error(c.pos, problem))
    return out


def _literal_variables(c: Condition) -> list[Diagnostic]:
    return [
        warning(
            c.pos,
            f'`{v}` holds a policy variable, but under `"Version": "2008-10-17"` it is literal text',
        )
        for v in c.values
        if "${" in v
    ]


def condition_problems(c: Condition, kind: PolicyKind, version: str | None) -> list[Diagnostic]:
    """Every problem of one (operator, key, values) test in a policy of `kind`."""
    out = _key_problems(c, kind)
    out.extend(_set_operator_problems(c, kind))
    out.extend(_value_problems(c))
    if version == "2008-10-17":
        out.extend(_literal_variables(c))
    return out

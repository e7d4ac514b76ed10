"""AST stage: positioned JSON -> `Policy` / `Grant`, with every structural problem.

Structure is checked here (element names and case, JSON types, Effect values,
Action with NotAction, operator syntax); `kmsprove.validate` adds the semantic
checks (ARNs, principals, Sids, inert actions...) on top of the built AST.
Building never stops at the first problem: it returns what it could build and
all diagnostics. A policy is `None` only when its top level is unusable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kmsprove.ast import Condition, Effect, Policy, PolicyKind, Principal, Statement
from kmsprove.errors import Diagnostic, SourcePos, error, one_line, suggest, warning
from kmsprove.operators import OPERATORS, PRESENCE, parse_operator
from kmsprove.syntax.tree import JArray, JBool, JNode, JNull, JNumber, JObject, JString, kind_name

POLICY_ELEMENTS = ("Version", "Id", "Statement")
STATEMENT_ELEMENTS = (
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
)
PRINCIPAL_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")


@dataclass
class Ctx:
    """Where a builder puts its diagnostics (shared by the policy and grant builders)."""

    diags: list[Diagnostic] = field(default_factory=list)

    def err(self, node: JNode, msg: str) -> None:
        self.diags.append(error(node.pos, one_line(msg)))

    def warn(self, node: JNode, msg: str) -> None:
        self.diags.append(warning(node.pos, one_line(msg)))

    def err_at(self, pos: SourcePos, msg: str) -> None:
        self.diags.append(error(pos, one_line(msg)))


def build_policy(
    node: JNode, kind: PolicyKind, name: str = ""
) -> tuple[Policy | None, list[Diagnostic]]:
    """A `Policy` from a JSON document, and every structural problem in it."""
    ctx = Ctx()
    if not isinstance(node, JObject):
        ctx.err(node, f"a policy must be a JSON object, not {kind_name(node)}")
        return None, ctx.diags
    version = pid = None
    statements: list[Statement] = []
    have_statement = False
    for m in node.members:
        v = m.value
        if m.key == "Version":
            if isinstance(v, JString):
                version = v.value
                if version not in ("2012-10-17", "2008-10-17"):
                    ctx.err(v, f"`Version` must be `2012-10-17` or `2008-10-17`, not `{version}`")
            else:
                ctx.err(v, f"`Version` must be a string, not {kind_name(v)}")
        elif m.key == "Id":
            if isinstance(v, JString):
                pid = v.value
            else:
                ctx.err(v, f"`Id` must be a string, not {kind_name(v)}")
        elif m.key == "Statement":
            have_statement = True
            items = v.items if isinstance(v, JArray) else (v,)
            for item in items:
                st = _statement(item, ctx)
                if st is not None:
                    statements.append(st)
        else:
            ctx.err_at(
                m.key_pos, f"unknown policy element `{m.key}`" + suggest(m.key, POLICY_ELEMENTS)
            )
    if not have_statement:
        ctx.err(node, "policy has no `Statement`")
    if "Version" not in node.names() and have_statement:
        ctx.warn(
            node,
            "no `Version`: AWS reads the policy as version 2008-10-17, where policy variables are literal text",
        )
    policy = Policy(kind, tuple(statements), version, pid, name, node.pos)
    return policy, ctx.diags


def strings(node: JNode, element: str, ctx: Ctx) -> tuple[str, ...] | None:
    """A string or an array of strings (Action, Resource, principal values)."""
    if isinstance(node, JString):
        return (node.value,)
    if isinstance(node, JArray):
        out = []
        for item in node.items:
            if isinstance(item, JString):
                out.append(item.value)
            else:
                ctx.err(item, f"`{element}` entries must be strings, not {kind_name(item)}")
        if not node.items:
            ctx.err(node, f"`{element}` is an empty array")
        return tuple(out)
    ctx.err(node, f"`{element}` must be a string or an array of strings, not {kind_name(node)}")
    return ()  # present but unusable: matches nothing, and is not "absent"


def _statement(node: JNode, ctx: Ctx) -> Statement | None:
    if not isinstance(node, JObject):
        ctx.err(node, f"a statement must be a JSON object, not {kind_name(node)}")
        return None
    fields: dict[str, object] = {}
    effect: Effect | None = None
    for m in node.members:
        v = m.value
        if m.key not in STATEMENT_ELEMENTS:
            ctx.err_at(
                m.key_pos,
                f"unknown statement element `{m.key}`" + suggest(m.key, STATEMENT_ELEMENTS),
            )
            continue
        if m.key == "Sid":
            if isinstance(v, JString):
                fields["sid"] = v.value
            else:
                ctx.err(v, f"`Sid` must be a string, not {kind_name(v)}")
        elif m.key == "Effect":
            if isinstance(v, JString) and v.value in ("Allow", "Deny"):
                effect = Effect(v.value)
            elif isinstance(v, JString):
                hint = suggest(v.value, ("Allow", "Deny"))
                ctx.err(v, f"`Effect` must be `Allow` or `Deny`, not `{v.value}`{hint}")
            else:
                ctx.err(v, f"`Effect` must be a string, not {kind_name(v)}")
        elif m.key in ("Principal", "NotPrincipal"):
            fields[m.key] = _principals(v, m.key, ctx)
        elif m.key in ("Action", "NotAction", "Resource", "NotResource"):
            fields[m.key] = strings(v, m.key, ctx)
        elif m.key == "Condition":
            fields["conditions"] = _conditions(v, ctx)
    if "Effect" not in node.names():
        ctx.err(node, "statement has no `Effect`")
    for a, b in (
        ("Action", "NotAction"),
        ("Resource", "NotResource"),
        ("Principal", "NotPrincipal"),
    ):
        if a in node.names() and b in node.names():
            ctx.err(node, f"a statement cannot have both `{a}` and `{b}`")
    if effect is None:
        return None
    return Statement(
        effect=effect,
        sid=fields.get("sid"),  # type: ignore[arg-type]
        principal=fields.get("Principal"),  # type: ignore[arg-type]
        not_principal=fields.get("NotPrincipal"),  # type: ignore[arg-type]
        action=fields.get("Action"),  # type: ignore[arg-type]
        not_action=fields.get("NotAction"),  # type: ignore[arg-type]
        resource=fields.get("Resource"),  # type: ignore[arg-type]
        not_resource=fields.get("NotResource"),  # type: ignore[arg-type]
        conditions=fields.get("conditions", ()),  # type: ignore[arg-type]
        pos=node.pos,
    )


def normalise_aws_principal(value: str) -> str:
    """A bare 12-digit account id means the account principal (R2.1)."""
    if len(value) == 12 and value.isdigit():
        return f"arn:aws:iam::{value}:root"
    return value


def _principals(node: JNode, element: str, ctx: Ctx) -> tuple[Principal, ...] | None:
    if isinstance(node, JString):
        if node.value == "*":
            return (Principal("*", "*", node.pos),)
        ctx.err(
            node,
            f'`{element}` must be `"*"` or an object such as {{"AWS": ...}}, not the string `{node.value}`',
        )
        return ()  # present but unusable: matches nobody, and is not "absent"
    if not isinstance(node, JObject):
        ctx.err(node, f'`{element}` must be `"*"` or an object, not {kind_name(node)}')
        return ()
    out: list[Principal] = []
    for m in node.members:
        if m.key not in PRINCIPAL_TYPES:
            ctx.err_at(
                m.key_pos, f"unknown principal type `{m.key}`" + suggest(m.key, PRINCIPAL_TYPES)
            )
            continue
        values = strings(m.value, f"{element}.{m.key}", ctx) or ()
        items = m.value.items if isinstance(m.value, JArray) else (m.value,)
        for item, value in zip(items, values, strict=False):
            v = normalise_aws_principal(value) if m.key == "AWS" else value
            out.append(Principal(m.key, v, item.pos))
    if not node.members:
        ctx.err(node, f"`{element}` is an empty object")
    return tuple(out)


def _operator_problem(op: str) -> str:
    if ":" in op:
        prefix, rest = op.split(":", 1)
        if prefix not in ("ForAllValues", "ForAnyValue"):
            hint = suggest(prefix, ("ForAllValues", "ForAnyValue"))
            return f"unknown set operator `{prefix}` in `{op}`{hint}"
        op = rest
    if op == f"{PRESENCE}IfExists":
        return f"`{PRESENCE}` cannot take `IfExists`"
    base = op.removesuffix("IfExists")
    return f"unknown condition operator `{op}`" + suggest(base, OPERATORS)


def _scalar_text(node: JNode) -> str | None:
    if isinstance(node, JString):
        return node.value
    if isinstance(node, JBool):
        return "true" if node.value else "false"
    if isinstance(node, JNumber):
        v = node.value
        return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)
    return None


def _conditions(node: JNode, ctx: Ctx) -> tuple[Condition, ...]:
    if not isinstance(node, JObject):
        ctx.err(node, f"`Condition` must be an object, not {kind_name(node)}")
        return ()
    out: list[Condition] = []
    for om in node.members:
        parsed = parse_operator(om.key)
        if parsed is None:
            ctx.err_at(om.key_pos, _operator_problem(om.key))
            continue
        set_op, base, if_exists = parsed
        block = om.value
        if not isinstance(block, JObject):
            ctx.err(
                block,
                f"the `{om.key}` block must be an object of condition keys, not {kind_name(block)}",
            )
            continue
        for km in block.members:
            vals = km.value.items if isinstance(km.value, JArray) else (km.value,)
            texts: list[str] = []
            for v in vals:
                t = _scalar_text(v)
                if t is None or isinstance(v, JNull):
                    ctx.err(
                        v,
                        f"condition values must be strings, numbers or booleans, not {kind_name(v)}",
                    )
                else:
                    texts.append(t)
            if isinstance(km.value, JArray) and not km.value.items:
                ctx.err(km.value, f"condition key `{km.key}` has an empty list of values")
            out.append(
                Condition(om.key, base, set_op, if_exists, km.key, tuple(texts), km.value.pos)
            )
    return tuple(out)

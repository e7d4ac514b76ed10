"""Edges read off the documents: the key policy's Allow statements and the key's grants.

Structural, not evaluated: a statement's principal entries say which class or named
principal it covers; `kms:CallerAccount` / `aws:PrincipalAccount` equalities narrow
`Principal: "*"` to accounts; `aws:SourceAccount` / `aws:SourceArn` pin a service
principal to the accounts it acts for; `kms:ViaService` puts the service between the
callers and the key. Every other condition is shown on the edge as written. The
operations are what the statement's actions cover among the key's operations: those a
key policy can allow, that the key's type performs, and (for a principal of another
account) that work across accounts (R3.2).
"""

from __future__ import annotations

from dataclasses import replace

from kmsprove.arn import ACCOUNT_RE, parse_arn, parse_caller, partition_of
from kmsprove.ast import Condition, Effect, Grant, Statement
from kmsprove.catalog import action_info, action_matches, kms_catalog
from kmsprove.evaluate.keystate import type_forbids
from kmsprove.evaluate.match import arn_like
from kmsprove.evaluate.principals import is_service_name
from kmsprove.questions.graph.model import Edge, EdgeKind, GraphBuilder, Node, NodeKind
from kmsprove.questions.graph.nodes import (
    account_node,
    anyone_node,
    key_node,
    named_node,
    regrantee_node,
    service_node,
    via_node,
)
from kmsprove.world import Key, World

_NARROWING = ("kms:calleraccount", "aws:principalaccount")  # who the caller's account is
_EQUALS = ("StringEquals", "StringLike", "ArnEquals", "ArnLike")


def key_operations(key: Key) -> tuple[str, ...]:
    """Every operation a key policy can allow on this key that its type performs."""
    return tuple(
        sorted(
            i.name
            for i in kms_catalog().values()
            if i.where == "key-policy" and i.on_key and type_forbids(key, i.short) is None
        )
    )


def statement_operations(st: Statement, key: Key) -> tuple[str, ...]:
    """The key's operations the statement's Action (or NotAction) covers; none when its
    Resource does not cover the key."""
    if st.resource is not None and not any(r == "*" or arn_like(r, key.arn) for r in st.resource):
        return ()
    if st.not_resource is not None and any(
        r == "*" or arn_like(r, key.arn) for r in st.not_resource
    ):
        return ()
    ops = key_operations(key)
    if st.action is not None:
        return tuple(o for o in ops if any(action_matches(p, o) for p in st.action))
    if st.not_action is not None:
        return tuple(o for o in ops if not any(action_matches(p, o) for p in st.not_action))
    return ()


def condition_text(c: Condition) -> str:
    return f"{c.key} {c.operator} {', '.join(c.values)}"


def _values(st: Statement, keys: tuple[str, ...]) -> list[str] | None:
    """The values a positive, single-valued equality or like test of one of `keys`
    allows; None when no such condition narrows the statement."""
    found: list[str] | None = None
    for c in st.conditions:
        if c.key.lower() in keys and c.base in _EQUALS and c.set_op is None and not c.if_exists:
            found = [*(found or []), *c.values]
    return found


def _accounts(values: list[str] | None, of_arn: bool = False) -> list[str] | None:
    """The literal accounts among condition values (account fields of ARNs with
    `of_arn`); None unless every value names one."""
    if values is None:
        return None
    out = []
    for v in values:
        arn = parse_arn(v) if of_arn else None
        acct = (arn.account if arn is not None else "") if of_arn else v
        if not ACCOUNT_RE.fullmatch(acct):
            return None
        out.append(acct)
    return sorted(set(out))


def _sources(world: World, st: Statement, key: Key) -> list[Node]:
    """The nodes the statement's principal entries stand for."""
    out: list[Node] = []
    partition = partition_of(key.arn)
    for p in st.principal or ():
        if p.is_wildcard:
            narrowed = _accounts(_values(st, _NARROWING))
            out += [account_node(a, partition) for a in narrowed] if narrowed else [anyone_node()]
        elif p.kind == "Service":
            pins = _accounts(_values(st, ("aws:sourceaccount",))) or _accounts(
                _values(st, ("aws:sourcearn",)), of_arn=True
            )
            out += (
                [service_node(p.value, a) for a in pins] if pins else [service_node(p.value, None)]
            )
        elif p.kind == "AWS":
            out.append(named_node(world, p.value, partition))
    return out


def _for_source(node: Node, ops: tuple[str, ...], key: Key) -> tuple[str, ...]:
    """Only the cross-account operations work for a caller of another account (R3.2)."""
    if node.account is None or node.account == key.account or node.kind is NodeKind.SERVICE:
        return ops
    return tuple(o for o in ops if (info := action_info(o)) is not None and info.cross_account)


def add_statements(b: GraphBuilder, world: World, key: Key) -> None:
    """A STATEMENT edge from each class or principal an Allow statement covers (through
    a VIA_SERVICE node when the statement demands kms:ViaService)."""
    target = b.add_node(key_node(key))
    every = set(key_operations(key))
    for policy in key.policies:
        ram = policy is key.ram_policy
        for n, st in enumerate(policy.statements, 1):
            if st.effect is not Effect.ALLOW or st.principal is None:
                continue
            ops = statement_operations(st, key)
            name = st.sid or f"statement {n}"
            through = f"{name} (AWS_RAM policy)" if ram else name
            conds = tuple(condition_text(c) for c in st.conditions)
            vias = _values(st, ("kms:viaservice",))
            for src in _sources(world, st, key):
                src_ops = _for_source(src, ops, key)
                edge = Edge(
                    src.id,
                    target,
                    EdgeKind.STATEMENT,
                    src_ops,
                    through,
                    (st.pos,),
                    conds,
                    all_operations=set(src_ops) == every,
                )
                b.add_node(src)
                if not vias:
                    b.add_edge(edge)
                    continue
                for service in vias:
                    via = b.add_node(via_node(service, src.account))
                    b.add_edge(
                        Edge(src.id, via, EdgeKind.VIA, src_ops, "kms:ViaService", (st.pos,))
                    )
                    b.add_edge(replace(edge, source=via))


def grant_constraints(g: Grant) -> tuple[str, ...]:
    out = []
    if g.ec_subset is not None:
        pairs = ", ".join(f"{k}={v}" for k, v in g.ec_subset)
        out.append(f"EncryptionContextSubset {pairs}")
    if g.ec_equals is not None:
        pairs = ", ".join(f"{k}={v}" for k, v in g.ec_equals)
        out.append(f"EncryptionContextEquals {pairs}")
    if g.source_arn is not None:
        out.append(f"SourceArn {g.source_arn}")
    return tuple(out)


def grantee_of(g: Grant) -> str | None:
    """The grantee as an ARN or a service name; a unique id the world resolved, by its ARN."""
    who = g.grantee_service or g.grantee
    resolved = dict(g.resolved)
    return resolved.get(who, who) if who else None


def add_grants(b: GraphBuilder, world: World, key: Key) -> None:
    """A GRANT edge from each grantee; a CHAIN edge into a grantee whose grant holds
    CreateGrant, from whoever it passes the grant on to (R4: a child grant's
    operations are within its parent's)."""
    target = b.add_node(key_node(key))
    every = set(key_operations(key))
    for g in key.grants:
        who = grantee_of(g)
        if who is None:
            continue
        ops = tuple(sorted(f"kms:{o}" for o in g.operations))
        src = (
            service_node(who, None)
            if is_service_name(who)
            else named_node(world, who, partition_of(key.arn))
        )
        b.add_node(src)
        through = f"grant {g.grant_id}"
        constraints = grant_constraints(g)
        whole = set(ops) == every
        b.add_edge(
            Edge(
                src.id,
                target,
                EdgeKind.GRANT,
                ops,
                through,
                (g.pos,),
                constraints,
                all_operations=whole,
            )
        )
        if "CreateGrant" in g.operations:
            shown = parse_caller(who).arn if not is_service_name(who) else who
            chain = b.add_node(regrantee_node(key, g, shown))
            b.add_edge(
                Edge(
                    chain,
                    src.id,
                    EdgeKind.CHAIN,
                    ops,
                    f"CreateGrant of grant {g.grant_id}",
                    (g.pos,),
                    constraints,
                    all_operations=whole,
                )
            )

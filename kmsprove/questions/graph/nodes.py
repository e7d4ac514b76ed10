"""The graph's nodes, one constructor per kind: stable ids and the labels people read."""

from __future__ import annotations

from kmsprove.arn import ACCOUNT_RE, parse_caller, partition_of
from kmsprove.ast import Grant
from kmsprove.evaluate.principals import is_service_name
from kmsprove.questions.graph.model import Node, NodeKind
from kmsprove.world import Key, World


def key_node(key: Key) -> Node:
    aliases = f" ({', '.join(key.aliases)})" if key.aliases else ""
    return Node(f"key:{key.arn}", NodeKind.KEY, f"key {key.key_id}{aliases}", key.arn, key.account)


def account_node(account: str, partition: str = "aws") -> Node:
    return Node(
        f"account:{account}",
        NodeKind.ACCOUNT,
        f"any principal of account {account}",
        f"arn:{partition}:iam::{account}:root",
        account,
    )


def anyone_node() -> Node:
    return Node("anyone", NodeKind.ANYONE, "any account (Principal *)", "*")


def service_node(name: str, account: str | None) -> Node:
    """A service principal calling as itself: for one account (an aws:SourceAccount or
    aws:SourceArn pins it) or for any account."""
    acting = f"account {account}" if account else "any account"
    return Node(
        f"service:{name}@{account or '*'}",
        NodeKind.SERVICE,
        f"service {name} for {acting}",
        name,
        account,
    )


def via_node(name: str, account: str | None) -> Node:
    """The callers of an account (or of any) reaching the key through service `name`."""
    acting = f"account {account}" if account else "any account"
    return Node(
        f"via:{name}@{account or '*'}",
        NodeKind.VIA_SERVICE,
        f"{name} acting for {acting} (kms:ViaService)",
        name,
        account,
    )


def regrantee_node(key: Key, grant: Grant, grantee: str) -> Node:
    return Node(
        f"regrantee:{key.arn}:{grant.grant_id}",
        NodeKind.REGRANTEE,
        f"whoever {grantee} passes grant {_short(grant.grant_id)} on to",
        None,
        None,
    )


def named_node(world: World, principal: str, partition: str = "aws", caller: bool = False) -> Node:
    """The node of a principal as a policy or a grant names it: an account's root is
    its account's class (R1.4, 10.3), a service name a service for any account, a
    session its role when the world holds the role. `caller`: as a trace's caller,
    where a root ARN is the root user itself."""
    if is_service_name(principal):
        return service_node(principal, None)
    if ACCOUNT_RE.fullmatch(principal) and not caller:
        return account_node(principal, partition)
    who = parse_caller(principal)
    if who.kind == "root" and who.account:
        if not caller:
            return account_node(who.account, partition_of(principal))
        label = f"root user of account {who.account}"
        return Node(f"principal:{principal}", NodeKind.PRINCIPAL, label, principal, who.account)
    ident = world.identity(principal) if who.account else None
    arn = ident.arn if ident is not None else principal
    return Node(f"principal:{arn}", NodeKind.PRINCIPAL, arn, arn, who.account)


def _short(grant_id: str) -> str:
    """A grant id as a label shows it (the edges name it in full)."""
    return grant_id if len(grant_id) <= 12 else grant_id[:12] + "…"

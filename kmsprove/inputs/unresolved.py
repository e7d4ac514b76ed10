"""Values an input cannot settle: stand-ins that name nobody, and the `Unresolved`
items that make every answer they may change unknown (`kmsprove.questions.hedge`).

A reader of deploy-time documents (a CloudFormation template, a Terraform plan) meets
values nobody knows yet: `Fn::ImportValue`, an SSM parameter, a Terraform value known
after apply. It records each as an `Unresolved` (the reason, naming the construct and
where it is; the key ARN whose decision it is part of, or None for an identity
document) and puts `MARK` where the value would be. Before a document is built, the
marks are filled by the place they stand in (`fill_policy`, `fill`): a principal
becomes a role of account `000000000000`, an action `kms:KmsproveUnresolved`, a
condition value one no request carries, so the policy validator accepts the document
and the twins can decide every request, while the answers that rest on it are unknown
(never "no", never a "yes" the real value might deny). Warnings the validator gives
about the stand-ins themselves are dropped (`quiet`); the `Unresolved` item's own
warning (`unsettled_warning`) says what was not settled.

Readers use it in three steps: `Unsettled.add` at each value they cannot settle
(returning `MARK` to put in its place), `fill_policy` on each policy tree before
`read_document`, `quiet` on the diagnostics; `Unsettled.items` goes to `World.unknowns`.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable

from kmsprove.ast import PolicyKind
from kmsprove.errors import Diagnostic, Severity, SourcePos, warning
from kmsprove.operators import OPERATORS, parse_operator
from kmsprove.syntax.tree import JArray, JMember, JNode, JObject, JString
from kmsprove.world import Unresolved

MARK = "\x00unresolved\x00"  # in a value being built: a part nobody can name yet

STANDIN_NAME = "kmsprove-unresolved"
STANDIN_ACCOUNT = "000000000000"
STANDIN_REGION = "zz-unresolved-1"
STANDIN_ROLE = f"arn:aws:iam::{STANDIN_ACCOUNT}:role/{STANDIN_NAME}"
STANDIN_SERVICE = f"{STANDIN_NAME}.amazonaws.com"
STANDIN_ACTION = "kms:KmsproveUnresolved"
STANDIN_RESOURCE = f"arn:aws:kms:{STANDIN_REGION}:{STANDIN_ACCOUNT}:key/{STANDIN_NAME}"
STANDIN_CONDITION_KEY = f"aws:PrincipalTag/{STANDIN_NAME}"
# a condition value no request carries, by operator family
FAMILY_STANDINS = {
    "String": STANDIN_NAME,
    "Arn": STANDIN_RESOURCE,
    "Numeric": "-1",
    "Date": "1970-01-01T00:00:00Z",
    "Bool": "false",
    "Null": "true",
    "Binary": base64.b64encode(STANDIN_NAME.encode()).decode(),
    "Ip": "192.0.2.0/32",  # TEST-NET-1 (RFC 5737): no caller's address
}
# the texts a validator warning about a stand-in mentions
_STANDIN_TEXTS = (STANDIN_NAME, "KmsproveUnresolved", STANDIN_ACCOUNT, STANDIN_REGION)
_ACTION_RE = re.compile(r"[A-Za-z0-9-]+:[A-Za-z0-9*?]+")
_PRINCIPAL_KINDS = (PolicyKind.KEY_POLICY, PolicyKind.BUCKET, PolicyKind.TRUST, PolicyKind.VPCE)


def is_unresolved(text: str) -> bool:
    return MARK in text


class Unsettled:
    """The `Unresolved` items a reader found, once each, in the order found."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, str | None], Unresolved] = {}

    def add(self, reason: str, key: str | None, pos: SourcePos) -> str:
        """Record what could not be settled; the `MARK` to put in the value's place."""
        self._items.setdefault((reason, key), Unresolved(reason, key, pos))
        return MARK

    def items(self) -> tuple[Unresolved, ...]:
        return tuple(self._items.values())


def unsettled_warning(u: Unresolved) -> Diagnostic:
    """The warning a reader gives at each `Unresolved` item."""
    scope = f"key {u.key}" if u.key else "every key"
    return warning(u.pos, f"unsettled: {u.reason}; answers about {scope} are unknown")


def quiet(diags: Iterable[Diagnostic]) -> list[Diagnostic]:
    """The diagnostics without the warnings about stand-ins (errors are all kept)."""
    return [
        d
        for d in diags
        if d.severity is Severity.ERROR or not any(t in d.message for t in _STANDIN_TEXTS)
    ]


# --------------------------------------------------------------------------
# filling a mark by the place it stands in


def _arn(text: str, service: str) -> str:
    fields = text.split(":", 5)
    if len(fields) < 6 or fields[0] != "arn":
        return text
    fills = ("arn", "aws", service, STANDIN_REGION, STANDIN_ACCOUNT)
    head = [fills[i] if MARK in f else f for i, f in enumerate(fields[:5])]
    return ":".join([*head, fields[5].replace(MARK, STANDIN_NAME)])


def fill(text: str, shape: str = "name") -> str:
    """`text` with its marks filled for a place of `shape`: `name` (an IAM, bucket or
    alias name, a tag, any text), `arn`, `account`, `principal` (an AWS principal),
    `service`, `action`, `resource`, or an operator family (`String`, `Ip`...)."""
    if MARK not in text:
        return text
    whole = text == MARK
    if shape == "account":
        return STANDIN_ACCOUNT
    if shape == "principal":
        done = _arn(text, "iam")
        if whole or MARK in done or not done.startswith("arn:"):
            return STANDIN_ROLE
        return done
    if shape == "service":
        return STANDIN_SERVICE if whole else text.replace(MARK, STANDIN_NAME)
    if shape == "action":
        done = text.replace(MARK, "KmsproveUnresolved")
        return done if _ACTION_RE.fullmatch(done) else STANDIN_ACTION
    if shape in ("arn", "resource", "Arn"):
        done = _arn(text, STANDIN_NAME)
        return STANDIN_RESOURCE if whole or MARK in done else done
    if shape in FAMILY_STANDINS and shape != "String":
        return FAMILY_STANDINS[shape]
    return text.replace(MARK, STANDIN_NAME)


def has_mark(node: JNode) -> bool:
    """Some string under `node` holds a mark."""
    if isinstance(node, JString):
        return MARK in node.value
    if isinstance(node, JObject):
        return any(has_mark(m.value) for m in node.members)
    if isinstance(node, JArray):
        return any(has_mark(i) for i in node.items)
    return False


def build(value: object, at: JNode) -> JNode:
    """A tree for a small value kmsprove writes, every node at `at`'s position."""
    if isinstance(value, dict):
        members = tuple(JMember(k, at.offset, build(v, at)) for k, v in value.items())
        return JObject(at.src, at.offset, members)
    if isinstance(value, list):
        return JArray(at.src, at.offset, tuple(build(v, at) for v in value))
    return JString(at.src, at.offset, str(value))


def standin_statement(kind: PolicyKind) -> dict[str, object]:
    """A statement that allows nobody anything: what an unknown statement stands as."""
    out: dict[str, object] = {"Sid": "KmsproveUnresolved", "Effect": "Allow"}
    if kind is PolicyKind.RCP:
        out["Principal"] = "*"
    elif kind in _PRINCIPAL_KINDS:
        out["Principal"] = {"AWS": STANDIN_ROLE}
    out["Action"] = "sts:AssumeRole" if kind is PolicyKind.TRUST else STANDIN_ACTION
    if kind is not PolicyKind.TRUST:
        out["Resource"] = "*"
    out["Condition"] = {"StringEquals": {STANDIN_CONDITION_KEY: STANDIN_NAME}}
    return out


def standin_policy(kind: PolicyKind, at: JNode) -> JNode:
    """A whole document nobody could read: one statement that allows nobody anything."""
    return build({"Version": "2012-10-17", "Statement": [standin_statement(kind)]}, at)


def fill_policy(node: JNode, kind: PolicyKind) -> JNode:
    """The policy tree with every mark filled by the place it stands in, so it builds
    and validates; the same tree when it holds none."""
    if not has_mark(node):
        return node
    if isinstance(node, JString) and node.value == MARK:
        return standin_policy(kind, node)
    if not isinstance(node, JObject):
        return node  # not a policy: its build says why
    return _members(node, lambda name, v: _top(name, v, kind))


def _members(node: JObject, each: Callable[[str, JNode], JNode]) -> JObject:
    members = tuple(JMember(m.key, m.key_offset, each(m.key, m.value)) for m in node.members)
    return JObject(node.src, node.offset, members)


def _texts(node: JNode, shape: str) -> JNode:
    """A string or an array of strings of one shape."""
    if isinstance(node, JString):
        return JString(node.src, node.offset, fill(node.value, shape))
    if isinstance(node, JArray):
        return JArray(node.src, node.offset, tuple(_texts(i, shape) for i in node.items))
    return node


def _top(name: str, node: JNode, kind: PolicyKind) -> JNode:
    if name == "Version":
        return build("2012-10-17", node) if has_mark(node) else node
    if name != "Statement":
        return _texts(node, "name")
    if isinstance(node, JArray):
        return JArray(node.src, node.offset, tuple(_statement(s, kind) for s in node.items))
    return _statement(node, kind)


def _statement(node: JNode, kind: PolicyKind) -> JNode:
    if isinstance(node, JString) and MARK in node.value:
        return build(standin_statement(kind), node)
    if not isinstance(node, JObject):
        return node
    return _members(node, lambda name, v: _element(name, v, kind))


def _element(name: str, node: JNode, kind: PolicyKind) -> JNode:
    if name in ("Principal", "NotPrincipal"):
        return _principal(node)
    if name in ("Action", "NotAction"):
        return _texts(node, "action")
    if name in ("Resource", "NotResource"):
        return _texts(node, "resource")
    if name == "Condition":
        return _condition(node)
    if name == "Effect":
        return build("Allow", node) if has_mark(node) else node
    if name == "Sid":
        return build("KmsproveUnresolved", node) if has_mark(node) else node
    return _texts(node, "name")


def _principal(node: JNode) -> JNode:
    if isinstance(node, JString) and MARK in node.value:
        return build({"AWS": STANDIN_ROLE}, node)
    if not isinstance(node, JObject):
        return node
    shapes = {"AWS": "principal", "Service": "service"}
    return _members(node, lambda name, v: _texts(v, shapes.get(name, "name")))


def _condition(node: JNode) -> JNode:
    if isinstance(node, JString) and MARK in node.value:
        return build({"StringEquals": {STANDIN_CONDITION_KEY: STANDIN_NAME}}, node)
    if not isinstance(node, JObject):
        return node

    def block(op: str, values: JNode) -> JNode:
        parsed = parse_operator(op)
        family = OPERATORS[parsed[1]].family if parsed is not None else "String"
        if isinstance(values, JString) and values.value == MARK:
            return build({STANDIN_CONDITION_KEY: FAMILY_STANDINS[family]}, values)
        if not isinstance(values, JObject):
            return values
        return _members(values, lambda _k, v: _texts(v, family))

    return _members(node, block)

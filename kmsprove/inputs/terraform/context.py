"""What every part of the Terraform reader shares: the plan, where it lands, the
diagnostics, what is unsettled, and how a policy attribute becomes a `Policy`.

A policy attribute is a JSON string (`jsonencode(...)`, a heredoc, an
`aws_iam_policy_document`'s `json`). It is parsed where it stands, so every diagnostic
inside it points into the plan file (`kmsprove.syntax.embedded`). One known only after
apply is first looked for in the `json` of the one `data.aws_iam_policy_document` its
expression references (when the plan has it); otherwise it is unsettled: a stand-in
that allows nothing, and an `Unresolved` naming the resource address and attribute.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kmsprove.ast import Policy, PolicyKind
from kmsprove.errors import InputError, warning
from kmsprove.inputs.documents import Reader, read_document
from kmsprove.inputs.standins import nobody, unsettled
from kmsprove.inputs.terraform.place import Place
from kmsprove.inputs.terraform.plan import Plan, Resource
from kmsprove.inputs.terraform.values import Value
from kmsprove.syntax.embedded import parse_embedded
from kmsprove.syntax.tree import JNode, JString, kind_name
from kmsprove.world import Unresolved

DOCUMENT_SOURCES = ("aws_iam_policy_document",)


@dataclass(frozen=True)
class Doc:
    """A policy attribute as read: `known` (parsed; None if it had errors), `absent`
    (null or empty: AWS's default applies), or `unknown` (a stand-in, unsettled)."""

    status: str
    policy: Policy | None = None


ABSENT = Doc("absent")


class Context(Reader):
    """The reader's shared state; `diags` collects every problem, `unknowns` what apply
    alone will settle, `notes` the defaults every answer must repeat."""

    def __init__(self, path: Path, text: str, plan: Plan, place: Place) -> None:
        super().__init__(path)
        self.text = text
        self.plan = plan
        self.place = place
        self.unknowns: list[Unresolved] = []
        self._lower = text.lower()
        self._mentioned: dict[tuple[str, ...], bool] = {}

    def warn(self, node: JNode, msg: str) -> None:
        self.diags.append(warning(node.pos, msg))

    def unsettled(
        self, res: Resource, what: str, key: str | None, node: JNode | None = None
    ) -> None:
        """`what` of `res` is known only after apply; answers about `key` (None: every
        key) become unknown."""
        where = node or res.node
        item, diag = unsettled(f"`{res.address}`: {what}", key, where.pos)
        self.unknowns.append(item)
        self.diags.append(diag)

    def mentions(self, *words: str) -> bool:
        """Some text of the plan names one of `words` (case-insensitively): a cheap,
        conservative test of whether a property can matter to any policy."""
        if words not in self._mentioned:
            self._mentioned[words] = any(w.lower() in self._lower for w in words)
        return self._mentioned[words]

    def policy_attr(
        self,
        res: Resource,
        attr: str,
        kind: PolicyKind,
        key: str | None,
        value: Value | None = None,
        settle: bool = True,
    ) -> Doc:
        """The policy in attribute `attr` of `res` (or in `value`, a part of it); one
        known only after apply is unsettled for `key` (not with `settle=False`: the
        caller has a sound reading of its absence)."""
        v = value if value is not None else res.attr(attr)
        name = f"{res.address}.{attr}"
        if v.is_unknown:
            source = self.plan.referenced(res, attr, DOCUMENT_SOURCES)
            known = [s for s in source if s.attr("json").string]
            if len(source) == 1 and known:
                return self.parse(known[0].attr("json"), kind, f"{known[0].address}.json")
            if not settle:
                return Doc("unknown")
            self.unsettled(res, f"`{attr}` is known only after apply", key, v.where)
            return Doc("unknown", nobody(kind, name, (v.where or res.node).pos))
        if v.node is not None and not isinstance(v.node, JString):
            self.err(v.node, f"`{attr}` must be a string holding a policy, not {kind_name(v.node)}")
            return Doc("known")
        if not v.string or not v.string.strip():
            return ABSENT
        return self.parse(v, kind, name)

    def parse(self, v: Value, kind: PolicyKind, name: str) -> Doc:
        node = v.node
        assert isinstance(node, JString)
        try:
            tree = parse_embedded(node, self.text, f"{node.pos.file}#{name}")
        except InputError as exc:
            self.diags.extend(exc.diagnostics)
            return Doc("known")
        policy, diags = read_document(tree, kind, name, node.value)
        self.diags.extend(diags)
        return Doc("known", policy)

"""Terraform `show -json` output -> the resource instances it describes, each with its
values and what only apply will tell (`after_unknown`), and the configuration around it.

The format (https://developer.hashicorp.com/terraform/internals/json-format):

- a plan: `format_version`, `resource_changes[]` (`address`, `module_address`, `mode`,
  `type`, `name`, `index`, `change.actions`, `change.after`, `change.after_unknown`),
  `planned_values` and `prior_state` (values representations: `root_module.resources`
  and `child_modules` recursively), `configuration` (per resource `expressions`, each
  a `constant_value` or `references`; `module_calls`; `provider_config`), `variables`;
- a state: `format_version`, `values` (a values representation).

Managed resources come from `resource_changes` (a `delete` leaves nothing; a deposed
object is on its way out), else from `planned_values` or `values`; data sources from
`resource_changes` (read during apply), `planned_values` and `prior_state`, first
one found wins. Unknown members are ignored (the format's rule for minor versions).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from kmsprove.errors import Diagnostic, error
from kmsprove.syntax.tree import JArray, JBool, JNode, JNull, JObject, JString, kind_name

SUPPORTED_MAJORS = ("0", "1")
INDEX = re.compile(r'\[(?:\d+|"(?:[^"\\]|\\.)*")\]')
REFERENCE = re.compile(
    r'^(data\.)?([A-Za-z_][\w-]*)\.([A-Za-z_][\w-]*)(\[(?:\d+|"(?:[^"\\]|\\.)*")\])?'
)


@dataclass(frozen=True)
class Value:
    """A planned value: `node` as the plan gives it (None: absent or null) and `unknown`,
    the matching part of `after_unknown` (`true` where only apply will tell)."""

    node: JNode | None
    unknown: JNode | None = None

    def at(self, name: str) -> Value:
        node = self.node.get(name) if isinstance(self.node, JObject) else None
        unknown = self.unknown.get(name) if isinstance(self.unknown, JObject) else None
        if isinstance(self.unknown, JBool) and self.unknown.value:
            unknown = self.unknown  # inside an unknown value, everything is unknown
        return Value(None if isinstance(node, JNull) else node, unknown)

    def items(self) -> list[Value]:
        """The elements of a list or set (a block list); none when unknown or absent."""
        if not isinstance(self.node, JArray):
            return []
        unknowns = self.unknown.items if isinstance(self.unknown, JArray) else ()
        return [
            Value(None if isinstance(n, JNull) else n, unknowns[i] if i < len(unknowns) else None)
            for i, n in enumerate(self.node.items)
        ]

    @property
    def is_unknown(self) -> bool:
        """Only apply will tell all of it."""
        return has_true(self.unknown)

    @property
    def string(self) -> str | None:
        return self.node.value if isinstance(self.node, JString) else None

    @property
    def where(self) -> JNode | None:
        """What to point at: the value, else its `after_unknown` entry."""
        return self.node if self.node is not None else self.unknown


def _blocks(nodes: list[JNode | None]) -> list[JNode | None]:
    """Nested block expressions are lists of objects: look into every one."""
    out: list[JNode | None] = []
    for n in nodes:
        out += list(n.items) if isinstance(n, JArray) else [n]
    return out


def has_true(node: JNode | None) -> bool:
    if isinstance(node, JBool):
        return node.value
    if isinstance(node, JObject):
        return any(has_true(m.value) for m in node.members)
    if isinstance(node, JArray):
        return any(has_true(i) for i in node.items)
    return False


@dataclass(frozen=True)
class Resource:
    """One resource instance (`module.kms.aws_kms_key.this[0]`) as it will be."""

    address: str
    module: str  # its module instance (`module.kms`), "" in the root module
    mode: str  # managed | data
    type: str
    name: str
    values: Value
    node: JObject  # its entry in the file: positions
    config: JObject | None = None  # its block in `configuration` (expressions)
    action: str = "state"  # create | update | no-op | replace | read | state

    def attr(self, name: str) -> Value:
        return self.values.at(name)

    def expression(self, name: str) -> JObject | None:
        """The expression of an argument (None: not configured)."""
        found = self._expressions(name)
        return found[0] if found else None

    def references(self, path: str) -> tuple[str, ...]:
        """What the expression of an argument references; `path` may go into nested
        blocks (`rule.apply_server_side_encryption_by_default.kms_master_key_id`)."""
        out: list[str] = []
        for expr in self._expressions(path):
            refs = expr.get("references")
            out += [r.value for r in getattr(refs, "items", ()) if isinstance(r, JString)]
        return tuple(out)

    def _expressions(self, path: str) -> list[JObject]:
        nodes: list[JNode | None] = [self.config.get("expressions") if self.config else None]
        for name in path.split("."):
            nodes = [n.get(name) for n in _blocks(nodes) if isinstance(n, JObject)]
        return [n for n in nodes if isinstance(n, JObject)]


@dataclass
class Plan:
    """What a plan or state file holds, as far as kmsprove reads it."""

    resources: list[Resource] = field(default_factory=list)
    by_address: dict[str, Resource] = field(default_factory=dict)
    provider_regions: dict[str, str] = field(default_factory=dict)  # provider key -> region
    is_plan: bool = False
    complete: bool = True  # False: the plan defers changes (`complete: false`)
    root: JObject | None = None
    configs: dict[tuple[str, str, str, str], JObject] = field(default_factory=dict)
    modules: dict[str, JObject] = field(default_factory=dict)  # module path -> module config
    calls: dict[str, JObject] = field(default_factory=dict)  # module path -> its call

    def add(self, res: Resource) -> None:
        if res.address in self.by_address:
            return
        self.by_address[res.address] = res
        if res.values.node is not None:
            self.resources.append(res)

    def of_type(self, *types: str) -> Iterator[Resource]:
        return (r for r in self.resources if r.type in types)

    def referenced(self, res: Resource, attr: str, types: tuple[str, ...]) -> list[Resource]:
        """The instances of `types` that `attr`'s expression references (in `res`'s module
        instance): the most specific reference per resource, so `aws_kms_key.this[0].arn`
        is instance 0 and `aws_kms_key.this[each.key]` any instance."""
        wanted: dict[tuple[str, str, str], str | None] = {}
        for ref in res.references(attr):
            m = REFERENCE.match(ref)
            if m is None or m.group(2) not in types:
                continue
            mode = "data" if m.group(1) else "managed"
            k = (mode, m.group(2), m.group(3))
            if wanted.get(k) is None:
                wanted[k] = m.group(4)
        out = []
        for (mode, rtype, name), index in wanted.items():
            for r in self.resources:
                if (r.mode, r.type, r.name, r.module) != (mode, rtype, name, res.module):
                    continue
                if index is None or r.address.endswith(f"{rtype}.{name}{index}"):
                    out.append(r)
        return out

    def variable_unset(self, res: Resource, attr: str) -> bool:
        """`attr` is set from a module variable nobody sets, whose default is null or "":
        Terraform passes no value, so AWS applies its default."""
        refs = res.references(attr)
        names = {r.split(".")[1] for r in refs if r.startswith("var.")}
        if len(names) != 1 or any(not r.startswith("var.") for r in refs):
            return False
        (name,) = names
        path = module_path(res.module)
        module = self.modules.get(path)
        variables = module.get("variables") if module is not None else None
        var = variables.get(name) if isinstance(variables, JObject) else None
        if not isinstance(var, JObject):
            return False
        default = var.get("default")
        if default is None and path:
            return False  # a required variable: the call must set it
        if not (default is None or isinstance(default, JNull) or _empty(default)):
            return False
        if not path:
            given = _root_variable(self.root, name)
            return given is None or isinstance(given, JNull) or _empty(given)
        call = self.calls.get(path)
        exprs = call.get("expressions") if call is not None else None
        return not (isinstance(exprs, JObject) and name in exprs.names())


def _empty(node: JNode) -> bool:
    return isinstance(node, JString) and node.value == ""


def _root_variable(root: JObject | None, name: str) -> JNode | None:
    variables = root.get("variables") if root is not None else None
    var = variables.get(name) if isinstance(variables, JObject) else None
    return var.get("value") if isinstance(var, JObject) else None


def module_path(module: str) -> str:
    """`module.a[0].module.b["x"]` -> `a.b`: the configuration's module, without instances."""
    return ".".join(INDEX.sub("", module).split(".")[1::2])


def format_version_problem(root: JObject) -> Diagnostic | None:
    node = root.get("format_version")
    if not isinstance(node, JString):
        where = node if node is not None else root
        return error(where.pos, f"`format_version` must be a string, not {kind_name(where)}")
    major = node.value.split(".", 1)[0]
    if major not in SUPPORTED_MAJORS:
        return error(
            node.pos,
            f"unsupported Terraform JSON `format_version` `{node.value}`: kmsprove reads "
            "versions 0.x and 1.x (`terraform show -json` of Terraform 0.12 and later)",
        )
    return None


def read_plan(root: JObject, diags: list[Diagnostic]) -> Plan:
    """The resources of a plan or state file (format version already checked)."""
    plan = Plan(
        root=root, is_plan="resource_changes" in root.names() or _has(root, "planned_values")
    )
    _configuration(plan, root.get("configuration"))
    errored = root.get("errored")
    if isinstance(errored, JBool) and errored.value:
        diags.append(error(errored.pos, "the plan errored: kmsprove reads a complete plan"))
    complete = root.get("complete")
    if isinstance(complete, JBool) and not complete.value:
        plan.complete = False
    changes = root.get("resource_changes")
    if changes is not None:
        _changes(plan, changes, diags)
    for section in ("planned_values", "values"):
        values = root.get(section)
        if values is not None:
            _values(plan, values, "managed" if changes is None else "data", diags)
    prior = root.get("prior_state")
    if isinstance(prior, JObject) and prior.get("values") is not None:
        _values(plan, prior.get("values"), "data", diags)  # type: ignore[arg-type]
    return plan


def _has(root: JObject, name: str) -> bool:
    return name in root.names()


def _changes(plan: Plan, node: JNode, diags: list[Diagnostic]) -> None:
    if not isinstance(node, JArray):
        diags.append(error(node.pos, f"`resource_changes` must be an array, not {kind_name(node)}"))
        return
    for item in node.items:
        head = _head(item, diags)
        if head is None or not isinstance(item, JObject):
            continue
        if item.get("deposed") is not None:
            continue  # a deposed object is being destroyed
        change = item.get("change")
        if not isinstance(change, JObject):
            diags.append(error(item.pos, f"resource change `{head[0]}` has no `change` object"))
            continue
        actions = [
            a.value for a in getattr(change.get("actions"), "items", ()) if isinstance(a, JString)
        ]
        after = change.get("after")
        action = "replace" if {"delete", "create"} <= set(actions) else (actions or ["state"])[-1]
        if ("delete" in actions and "create" not in actions) or action == "forget":
            after = None
        address, mode, rtype, name, module = head
        module_node = item.get("module_address")
        if isinstance(module_node, JString):
            module = module_node.value
        values = Value(None if isinstance(after, JNull) else after, change.get("after_unknown"))
        res = Resource(address, module, mode, rtype, name, values, item, action=action)
        plan.add(_configured(plan, res))


def _head(item: JNode, diags: list[Diagnostic]) -> tuple[str, str, str, str, str] | None:
    """(address, mode, type, name, module) of a resource entry, or None (reported)."""
    if not isinstance(item, JObject):
        diags.append(error(item.pos, f"a resource must be an object, not {kind_name(item)}"))
        return None
    fields = []
    for name in ("address", "type", "name"):
        v = item.get(name)
        if not isinstance(v, JString):
            diags.append(error((v or item).pos, f"a resource needs its `{name}` (a string)"))
            return None
        fields.append(v.value)
    mode = item.get("mode")
    address, rtype, name = fields
    mode_text = mode.value if isinstance(mode, JString) else "managed"
    prefix = ("data." if mode_text == "data" else "") + f"{rtype}.{name}"
    at = address.rfind(prefix)
    module = address[: at - 1] if at > 0 else ""
    return address, mode_text, rtype, name, module


def _values(plan: Plan, node: JNode, modes: str, diags: list[Diagnostic]) -> None:
    """Resources of a values representation; `modes`: which modes it may add."""
    if not isinstance(node, JObject):
        diags.append(error(node.pos, f"expected a values object, not {kind_name(node)}"))
        return
    stack = [node.get("root_module")]
    while stack:
        module = stack.pop()
        if not isinstance(module, JObject):
            continue
        for item in getattr(module.get("resources"), "items", ()):
            head = _head(item, diags)
            if head is None or not isinstance(item, JObject):
                continue
            address, mode, rtype, name, module_address = head
            if modes != "managed" and mode != "data":
                continue
            values = item.get("values")
            res = Resource(address, module_address, mode, rtype, name, Value(values), item)
            plan.add(_configured(plan, res))
        stack.extend(reversed(getattr(module.get("child_modules"), "items", ())))


# --------------------------------------------------------------------------
# configuration


def _configured(plan: Plan, res: Resource) -> Resource:
    config = plan.configs.get((module_path(res.module), res.mode, res.type, res.name))
    if config is None:
        return res
    return Resource(
        res.address,
        res.module,
        res.mode,
        res.type,
        res.name,
        res.values,
        res.node,
        config,
        res.action,
    )


def _configuration(plan: Plan, node: JNode | None) -> None:
    if not isinstance(node, JObject):
        return
    providers = node.get("provider_config")
    for m in getattr(providers, "members", ()):
        exprs = m.value.get("expressions") if isinstance(m.value, JObject) else None
        region = exprs.get("region") if isinstance(exprs, JObject) else None
        const = region.get("constant_value") if isinstance(region, JObject) else None
        if isinstance(const, JString):
            plan.provider_regions[m.key] = const.value
    stack: list[tuple[str, JNode | None]] = [("", node.get("root_module"))]
    while stack:
        path, module = stack.pop()
        if not isinstance(module, JObject):
            continue
        plan.modules[path] = module
        for item in getattr(module.get("resources"), "items", ()):
            if not isinstance(item, JObject):
                continue
            mode, rtype, name = (
                getattr(item.get(k), "value", None) for k in ("mode", "type", "name")
            )
            if isinstance(rtype, str) and isinstance(name, str):
                plan.configs[(path, mode or "managed", rtype, name)] = item
        for call in getattr(module.get("module_calls"), "members", ()):
            if isinstance(call.value, JObject):
                sub = f"{path}.{call.key}" if path else call.key
                plan.calls[sub] = call.value
                stack.append((sub, call.value.get("module")))


def provider_key(res: Resource) -> str | None:
    node = res.config.get("provider_config_key") if res.config is not None else None
    return node.value if isinstance(node, JString) else None

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
from kmsprove.inputs.terraform.values import Value, blocks
from kmsprove.syntax.tree import JArray, JBool, JNode, JNull, JObject, JString, kind_name

SUPPORTED_MAJORS = ("0", "1")
MODULE_REF = re.compile(
    r'^module\.([A-Za-z_][\w-]*)(\[(?:\d+|"(?:[^"\\]|\\.)*")\])?\.([A-Za-z_][\w-]*)'
)
INDEX = re.compile(r'\[(?:\d+|"(?:[^"\\]|\\.)*")\]')
REFERENCE = re.compile(
    r'^(data\.)?([A-Za-z_][\w-]*)\.([A-Za-z_][\w-]*)(\[(?:\d+|"(?:[^"\\]|\\.)*")\])?'
)


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
            nodes = [n.get(name) for n in blocks(nodes) if isinstance(n, JObject)]
        return [n for n in nodes if isinstance(n, JObject)]


@dataclass
class Plan:
    """What a plan or state file holds, as far as kmsprove reads it."""

    resources: list[Resource] = field(default_factory=list)
    by_address: dict[str, Resource] = field(default_factory=dict)
    provider_regions: dict[str, str] = field(default_factory=dict)  # provider key -> region
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
        is instance 0 and `aws_kms_key.this[each.key]` any instance; a module output
        (`module.kms.key_arn`) is what its expression references in that module."""
        return self._resolve(res.module, res.references(attr), types, 0)

    def _resolve(
        self, instance: str, refs: tuple[str, ...], types: tuple[str, ...], depth: int
    ) -> list[Resource]:
        wanted: dict[tuple[str, str, str], str | None] = {}
        out: dict[str, Resource] = {}
        for ref in refs:
            sub = MODULE_REF.match(ref)
            found: list[Resource] = []
            if sub is not None and depth < 8:
                found = self._through_output(instance, sub, types, depth)
            elif ref.startswith("var.") and instance and depth < 8:
                found = self._through_variable(instance, ref.split(".")[1], types, depth)
            for r in found:
                out.setdefault(r.address, r)
            if sub is not None or ref.startswith("var."):
                continue
            m = REFERENCE.match(ref)
            if m is None or m.group(2) not in types:
                continue
            k = ("data" if m.group(1) else "managed", m.group(2), m.group(3))
            if wanted.get(k) is None:
                wanted[k] = m.group(4)
        for (mode, rtype, name), index in wanted.items():
            for r in self.resources:
                if (r.mode, r.type, r.name, r.module) != (mode, rtype, name, instance):
                    continue
                if index is None or r.address.endswith(f"{rtype}.{name}{index}"):
                    out.setdefault(r.address, r)
        return list(out.values())

    def _through_output(
        self, instance: str, sub: re.Match[str], types: tuple[str, ...], depth: int
    ) -> list[Resource]:
        path = module_path(instance)
        child = f"{path}.{sub.group(1)}" if path else sub.group(1)
        module = self.modules.get(child)
        outputs = module.get("outputs") if module is not None else None
        output = outputs.get(sub.group(3)) if isinstance(outputs, JObject) else None
        expr = output.get("expression") if isinstance(output, JObject) else None
        refs = expr.get("references") if isinstance(expr, JObject) else None
        texts = tuple(r.value for r in getattr(refs, "items", ()) if isinstance(r, JString))
        prefix = (f"{instance}." if instance else "") + f"module.{sub.group(1)}"
        prefix += sub.group(2) or ""
        found = {_child_instance(r.module, prefix) for r in self.resources}
        out: list[Resource] = []
        for inst in sorted(i for i in found if i is not None):
            out += self._resolve(inst, texts, types, depth + 1)
        return out

    def _through_variable(
        self, instance: str, name: str, types: tuple[str, ...], depth: int
    ) -> list[Resource]:
        """`var.NAME` in a module instance: what the call's argument references."""
        call = self.calls.get(module_path(instance))
        exprs = call.get("expressions") if call is not None else None
        expr = exprs.get(name) if isinstance(exprs, JObject) else None
        refs = expr.get("references") if isinstance(expr, JObject) else None
        texts = tuple(r.value for r in getattr(refs, "items", ()) if isinstance(r, JString))
        parent = instance[: instance.rfind(".module.")] if ".module." in instance else ""
        return self._resolve(parent, texts, types, depth + 1)

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


def _child_instance(module: str, prefix: str) -> str | None:
    """The instance of the module call `prefix` that `module` is (or is inside of)."""
    if not module.startswith(prefix):
        return None
    rest = module[len(prefix) :]
    index = INDEX.match(rest)
    head = index.group(0) if index is not None else ""
    tail = rest[len(head) :]
    return prefix + head if tail == "" or tail.startswith(".") else None


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
    plan = Plan(root=root)
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
    for m in getattr(node.get("provider_config"), "members", ()):
        exprs = m.value.get("expressions") if isinstance(m.value, JObject) else None
        region = exprs.get("region") if isinstance(exprs, JObject) else None
        const = region.get("constant_value") if isinstance(region, JObject) else None
        listed = region.get("references") if isinstance(region, JObject) else None
        refs = [r.value for r in getattr(listed, "items", ()) if isinstance(r, JString)]
        if const is None and len(refs) == 1 and refs[0].startswith("var.") and ":" not in m.key:
            const = _root_variable(plan.root, refs[0][4:])  # `region = var.region`
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

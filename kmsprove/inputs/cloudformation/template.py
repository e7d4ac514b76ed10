"""A template's sections, checked for shape: parameters with their values, pseudo
parameters, mappings, conditions and resources (`Template`).

Parameter values come from `--parameter NAME=VALUE`, else the parameter's `Default`;
a parameter with neither, and every `AWS::SSM::Parameter::Value<...>` parameter not
given on the command line, has no value here (its uses are unresolved). Pseudo
parameters come from `--account` and `--region` (defaults 111122223333 and us-east-1,
said in a warning), the partition and URL suffix from the Region; the stack's name
and id are placeholders.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from kmsprove.errors import Diagnostic, SourcePos, error, suggest, warning
from kmsprove.inputs.options import CLI, DEFAULT_ACCOUNT, DEFAULT_REGION, ReadOptions
from kmsprove.syntax.tree import JArray, JMember, JNode, JNumber, JObject, JString, kind_name

SECTIONS = (
    "AWSTemplateFormatVersion",
    "Description",
    "Metadata",
    "Parameters",
    "Rules",
    "Mappings",
    "Conditions",
    "Transform",
    "Resources",
    "Outputs",
    "Hooks",
)
RESOURCE_FIELDS = (
    "Type",
    "Properties",
    "Condition",
    "DependsOn",
    "DeletionPolicy",
    "UpdateReplacePolicy",
    "UpdatePolicy",
    "CreationPolicy",
    "Metadata",
    "Version",
)
STACK_NAME = "kmsprove-stack"  # AWS::StackName: a placeholder (the stack is not named here)
NAMESPACE = uuid.UUID("9d1c6a52-3b0e-4d8f-9a52-6b1f0c7e2a10")  # kmsprove's generated ids
SSM_VALUE = "AWS::SSM::Parameter::Value<"


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    node: JObject
    value: JNode | None  # JString, or JArray of JStrings for list types; None: no value
    why_none: str = ""  # why it has no value here


@dataclass(frozen=True)
class Resource:
    logical: str
    type: str
    node: JObject
    properties: JObject | None
    condition: str | None
    key_pos: SourcePos


@dataclass
class Template:
    """The sections of one template; `problems` holds every error of their shape."""

    path: str
    root: JObject
    options: ReadOptions
    parameters: dict[str, Parameter] = field(default_factory=dict)
    mappings: JObject | None = None
    conditions: dict[str, JNode] = field(default_factory=dict)
    resources: dict[str, Resource] = field(default_factory=dict)
    problems: list[Diagnostic] = field(default_factory=list)
    account: str = DEFAULT_ACCOUNT
    region: str = DEFAULT_REGION

    def __post_init__(self) -> None:
        self.account = self.options.account or DEFAULT_ACCOUNT
        self.region = self.options.region or DEFAULT_REGION
        for m in self.root.members:
            if m.key not in SECTIONS:
                self.err(
                    m.key_pos, f"unknown template section `{m.key}`" + suggest(m.key, SECTIONS)
                )
        self.mappings = self.section("Mappings")
        self.conditions = {m.key: m.value for m in _members(self.section("Conditions"))}
        self.read_parameters()
        self.read_resources()

    @property
    def expanded(self) -> bool:
        """A `Transform` adds resources at deploy time (SAM's, a macro's): a name the
        template does not define may be one of them."""
        node = self.root.get("Transform")
        items = node.items if isinstance(node, JArray) else (node,) if node is not None else ()
        return any(_scalar(i) != "AWS::LanguageExtensions" for i in items)

    @property
    def partition(self) -> str:
        if self.region.startswith("cn-"):
            return "aws-cn"
        return "aws-us-gov" if self.region.startswith("us-gov-") else "aws"

    @property
    def url_suffix(self) -> str:
        return "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com"

    @property
    def stack_id(self) -> str:
        tail = uuid.uuid5(NAMESPACE, f"stack/{self.path}")
        return (
            f"arn:{self.partition}:cloudformation:{self.region}:{self.account}:"
            f"stack/{STACK_NAME}/{tail}"
        )

    def err(self, pos: SourcePos, message: str) -> None:
        self.problems.append(error(pos, message))

    def section(self, name: str) -> JObject | None:
        node = self.root.get(name)
        if node is None:
            return None
        if not isinstance(node, JObject):
            self.err(node.pos, f"`{name}` must be an object, not {kind_name(node)}")
            return None
        return node

    # -- parameters ------------------------------------------------------

    def read_parameters(self) -> None:
        given = dict(self.options.parameters)
        for m in _members(self.section("Parameters")):
            if not isinstance(m.value, JObject):
                self.err(m.value.pos, f"parameter `{m.key}` must be an object")
                continue
            ptype = m.value.get("Type")
            if not isinstance(ptype, JString):
                self.err(m.value.pos, f"parameter `{m.key}` has no `Type`")
                continue
            self.parameters[m.key] = self.parameter(m.key, ptype.value, m.value, given.get(m.key))
        for name in given:
            if name not in self.parameters:
                self.problems.append(
                    error(
                        CLI,
                        f"--parameter `{name}`: the template has no such parameter"
                        + suggest(name, self.parameters),
                    )
                )

    def parameter(self, name: str, ptype: str, node: JObject, given: str | None) -> Parameter:
        default = node.get("Default")
        listy = (
            ptype.startswith("List<")
            or ptype == "CommaDelimitedList"
            or (ptype.startswith(SSM_VALUE) and ("List<" in ptype or "CommaDelimitedList" in ptype))
        )
        text: str | None = given
        at: JNode = node if default is None else default
        if given is None and ptype.startswith(SSM_VALUE):
            ssm = default.value if isinstance(default, JString) else "?"
            why = f"parameter `{name}` is read from SSM parameter `{ssm}` ({ptype}) at deploy time"
            return Parameter(name, ptype, node, None, why)
        if given is None and default is not None:
            text = _scalar(default)
            if text is None and isinstance(default, JArray):
                text = ",".join(_scalar(i) or "" for i in default.items)
            if text is None:
                self.err(default.pos, f"parameter `{name}`: `Default` must be a string")
                return Parameter(name, ptype, node, None, "")
        if text is None:
            return Parameter(
                name, ptype, node, None, f"parameter `{name}` has no value and no `Default`"
            )
        self.check_allowed(name, node, text, given is not None)
        if listy:
            items = tuple(JString(at.src, at.offset, p.strip()) for p in text.split(","))
            return Parameter(name, ptype, node, JArray(at.src, at.offset, items))
        return Parameter(name, ptype, node, JString(at.src, at.offset, text))

    def check_allowed(self, name: str, node: JObject, text: str, given: bool) -> None:
        allowed = node.get("AllowedValues")
        if not isinstance(allowed, JArray):
            return
        values = [_scalar(i) for i in allowed.items]
        if text not in values:
            pos = CLI if given else (node.get("Default") or node).pos
            where = f"--parameter {name}" if given else f"parameter `{name}`"
            self.problems.append(
                error(
                    pos,
                    f"{where}: `{text}` is not one of its `AllowedValues`"
                    + suggest(text, [v for v in values if v]),
                )
            )

    # -- resources -------------------------------------------------------

    def read_resources(self) -> None:
        section = self.section("Resources")
        if section is None:
            if self.root.get("Resources") is None:
                self.err(self.root.pos, "a template needs `Resources`")
            return
        for m in section.members:
            if m.key.startswith("Fn::ForEach::"):
                continue  # expanded by AWS::LanguageExtensions at deploy time (the reader says so)
            node = m.value
            if not isinstance(node, JObject):
                self.err(node.pos, f"resource `{m.key}` must be an object, not {kind_name(node)}")
                continue
            for f in node.members:
                if f.key not in RESOURCE_FIELDS:
                    self.err(
                        f.key_pos,
                        f"unknown resource field `{f.key}`" + suggest(f.key, RESOURCE_FIELDS),
                    )
            rtype = node.get("Type")
            if not isinstance(rtype, JString):
                self.err((rtype or node).pos, f"resource `{m.key}` needs a `Type` string")
                continue
            props = node.get("Properties")
            if props is not None and not isinstance(props, JObject):
                self.err(props.pos, f"`Properties` of `{m.key}` must be an object")
                props = None
            cond = node.get("Condition")
            if cond is not None and not (
                isinstance(cond, JString) and cond.value in self.conditions
            ):
                shown = cond.value if isinstance(cond, JString) else kind_name(cond)
                self.err(
                    cond.pos,
                    f"resource `{m.key}`: no condition `{shown}` in `Conditions`"
                    + suggest(shown, self.conditions),
                )
                cond = None
            name = cond.value if isinstance(cond, JString) else None
            self.resources[m.key] = Resource(m.key, rtype.value, node, props, name, m.key_pos)

    def of_type(self, *types: str) -> list[Resource]:
        return [r for r in self.resources.values() if r.type in types]

    def defaults_note(self) -> Diagnostic | None:
        """The warning naming the pseudo parameters read with kmsprove's defaults."""
        used = []
        if self.options.account is None:
            used.append(f"AWS::AccountId {self.account} (give --account)")
        if self.options.region is None:
            used.append(f"AWS::Region {self.region} (give --region)")
        if not used:
            return None
        return warning(self.root.pos, "read with kmsprove's defaults: " + ", ".join(used))


def _members(node: JObject | None) -> tuple[JMember, ...]:
    return node.members if node is not None else ()


def _scalar(node: JNode) -> str | None:
    if isinstance(node, JString):
        return node.value
    if isinstance(node, JNumber):
        return str(node.value)
    return None

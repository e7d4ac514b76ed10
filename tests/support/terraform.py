"""Builders for `terraform show -json` documents (plans and states) in tests, after
https://developer.hashicorp.com/terraform/internals/json-format: resource changes with
`after` / `after_unknown`, values representations with child modules, configuration
blocks with `references` and `constant_value` expressions. `tests/data/terraform/`
fixtures are written with them too."""

from __future__ import annotations

import json
from typing import Any

TF = "1.9.8"
PROVIDER = "registry.terraform.io/hashicorp/aws"


# --------------------------------------------------------------------------
# policy documents, as aws_iam_policy_document renders them


def st(
    sid: str,
    actions: list[str],
    principal: dict[str, Any] | str,
    conditions: dict[str, dict[str, Any]] | None = None,
    resources: Any = "*",
    effect: str = "Allow",
) -> dict[str, Any]:
    out: dict[str, Any] = {"Sid": sid, "Effect": effect}
    out["Action"] = actions[0] if len(actions) == 1 else actions
    out["Resource"] = resources
    if principal:
        out["Principal"] = principal
    if conditions:
        out["Condition"] = conditions
    return out


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def rendered(d: dict[str, Any]) -> str:
    """`data.aws_iam_policy_document.*.json`: indented."""
    return json.dumps(d, indent=2)


def encoded(d: dict[str, Any]) -> str:
    """`jsonencode(...)`: compact."""
    return json.dumps(d, separators=(",", ":"))


# --------------------------------------------------------------------------
# plan pieces


def address(
    rtype: str, name: str, module: str = "", index: Any = None, mode: str = "managed"
) -> str:
    head = ("data." if mode == "data" else "") + f"{rtype}.{name}"
    if index is not None:
        head += f"[{json.dumps(index)}]"
    return f"{module}.{head}" if module else head


def change(
    rtype: str,
    name: str,
    after: dict[str, Any] | None,
    unknown: dict[str, Any] | None = None,
    actions: tuple[str, ...] = ("create",),
    module: str = "",
    index: Any = None,
    before: dict[str, Any] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"address": address(rtype, name, module, index)}
    if module:
        out["module_address"] = module
    out.update(mode="managed", type=rtype, name=name)
    if index is not None:
        out["index"] = index
    out["provider_name"] = PROVIDER
    out["change"] = {
        "actions": list(actions),
        "before": before,
        "after": after,
        "after_unknown": unknown or {},
        "before_sensitive": False if before is None else {},
        "after_sensitive": {},
    }
    return out


def resource(
    rtype: str,
    name: str,
    values: dict[str, Any],
    module: str = "",
    index: Any = None,
    mode: str = "managed",
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "address": address(rtype, name, module, index, mode),
        "mode": mode,
        "type": rtype,
        "name": name,
    }
    if index is not None:
        out["index"] = index
    out.update(provider_name=PROVIDER, schema_version=0, values=values, sensitive_values={})
    return out


def values_of(resources: list[dict[str, Any]]) -> dict[str, Any]:
    """A values representation: root resources, then one child module per module."""
    root: dict[str, Any] = {"resources": [], "child_modules": []}
    modules: dict[str, dict[str, Any]] = {}
    for r in resources:
        module = r["address"].rsplit(".", 3 if r["mode"] == "data" else 2)[0]
        module = module if module.startswith("module.") and r["address"] != module else ""
        if not module:
            root["resources"].append(r)
        else:
            if module not in modules:
                modules[module] = {"resources": [], "address": module}
                root["child_modules"].append(modules[module])
            modules[module]["resources"].append(r)
    if not root["child_modules"]:
        del root["child_modules"]
    return {"root_module": root}


def planned(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`planned_values`: each change's `after`, its unknown members left out."""
    out = []
    for c in changes:
        if c["change"]["after"] is None or c.get("deposed"):
            continue  # destroyed: not in the planned state
        after = {
            k: v
            for k, v in c["change"]["after"].items()
            if c["change"]["after_unknown"].get(k) is not True
        }
        r = resource(c["type"], c["name"], after, c.get("module_address", ""), c.get("index"))
        out.append(r)
    return out


def ref(*refs: str) -> dict[str, Any]:
    return {"references": list(refs)}


def const(value: Any) -> dict[str, Any]:
    return {"constant_value": value}


def conf(
    rtype: str, name: str, expressions: dict[str, Any], mode: str = "managed", **extra: Any
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "address": address(rtype, name, mode=mode),
        "mode": mode,
        "type": rtype,
        "name": name,
        "provider_config_key": "aws",
        "expressions": expressions,
        "schema_version": 0,
    }
    out.update(extra)
    return out


def plan(
    changes: list[dict[str, Any]],
    data: list[dict[str, Any]],
    configuration: dict[str, Any],
    variables: dict[str, Any] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"format_version": "1.2", "terraform_version": TF}
    if variables:
        out["variables"] = {k: {"value": v} for k, v in variables.items()}
    out["planned_values"] = values_of(planned(changes) + data)
    out["resource_changes"] = changes
    out["prior_state"] = {
        "format_version": "1.0",
        "terraform_version": TF,
        "values": values_of(data),
    }
    out["configuration"] = configuration
    out.update(timestamp="2026-11-30T12:00:00Z", applyable=True, complete=True, errored=False)
    return out


def state(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {"format_version": "1.0", "terraform_version": TF, "values": values_of(resources)}


def key_arn(region: str, account: str, key_id: str) -> str:
    return f"arn:aws:kms:{region}:{account}:key/{key_id}"


def world(keys: list[dict[str, Any]], **rest: Any) -> dict[str, Any]:
    return {"version": 1, "keys": keys, **rest}

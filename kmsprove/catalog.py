"""Service model: `specs/*.json` -> action, condition-key and key-state facts.

The catalogue is data (kms-semantics.md R3, R5, R9); this module only reads it and
answers questions about it, for the validator and both twins alike. Action matching
is case-insensitive with `*` and `?` over the whole name (R3.6); wildcards expand here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from kmsprove.resources import read_data


@dataclass(frozen=True, slots=True)
class ActionInfo:
    name: str  # `kms:Decrypt`
    resource: str  # key | alias+key | * | custom-key-store
    where: str  # key-policy | retire | iam-only | service-only
    cross_account: bool  # R3.2
    grant_operation: bool  # R3.4
    encryption_context: bool  # takes an encryption context (R4.5)
    condition_keys: tuple[str, ...]  # R5.2; `prefix*` stands for any suffix

    @property
    def short(self) -> str:
        return self.name.split(":", 1)[1]

    @property
    def on_key(self) -> bool:
        """Authorized against a key, so a key policy can allow it."""
        return self.resource in ("key", "alias+key")


def _load(name: str) -> Any:
    return json.loads(read_data("specs", name))


@cache
def kms_catalog() -> dict[str, ActionInfo]:
    """Every KMS action, keyed by lower-cased full name (`kms:decrypt`)."""
    data = _load("kms-actions.json")
    out = {}
    for short, facts in data["actions"].items():
        info = ActionInfo(
            name=f"kms:{short}",
            resource=facts["resource"],
            where=facts["where"],
            cross_account=facts["cross_account"],
            grant_operation=facts["grant_operation"],
            encryption_context=facts["encryption_context"],
            condition_keys=tuple(facts["condition_keys"]),
        )
        out[info.name.lower()] = info
    return out


@cache
def key_usage_operations() -> dict[str, frozenset[str]]:
    data = _load("kms-actions.json")["key_usage_operations"]
    return {k: frozenset(v) for k, v in data.items()}


@cache
def s3_facts() -> dict[str, Any]:
    facts: dict[str, Any] = _load("s3-and-managed-keys.json")
    return facts


def aws_managed_key_policy(arn: str, aliases: tuple[str, ...]) -> tuple[str, Any] | None:
    """(`alias/aws/SERVICE`, the fixed key policy of that AWS managed key) from the
    template of specs/ (R7.5), for the key's first `alias/aws/` alias; None without one."""
    services = [a.split("/", 2)[2] for a in aliases if a.startswith("alias/aws/")]
    parts = arn.split(":")
    if not services or len(parts) < 6:
        return None
    facts = s3_facts()
    service = facts["via_service_names"].get(services[0], services[0])
    values = {"ACCOUNT": parts[4], "REGION": parts[3], "SERVICE": service}
    return f"alias/aws/{services[0]}", _substitute(facts["aws_managed_key_policy"], values)


def _substitute(value: Any, values: dict[str, str]) -> Any:
    """`${NAME}` placeholders of a document template replaced, inside every string."""
    if isinstance(value, dict):
        return {k: _substitute(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, values) for v in value]
    if isinstance(value, str):
        for name, text in values.items():
            value = value.replace("${" + name + "}", text)
    return value


# --------------------------------------------------------------------------
# operations by kind (R3.5, R4.5, R9.2)


@cache
def crypto_operations() -> frozenset[str]:
    """Cryptographic operations (short names), the ones a key's type decides (R3.5)."""
    return frozenset(_load("kms-actions.json")["cryptographic_operations"])


@cache
def ec_operations() -> frozenset[str]:
    """Operations that take an encryption context (R4.5)."""
    return frozenset(i.short for i in kms_catalog().values() if i.encryption_context)


def usage_class(key_spec: str, key_usage: str) -> str:
    """The row of `key_usage_operations` for a key (symmetric and asymmetric differ)."""
    if key_usage == "ENCRYPT_DECRYPT":
        symmetric = key_spec == "SYMMETRIC_DEFAULT"
        return "ENCRYPT_DECRYPT/SYMMETRIC" if symmetric else "ENCRYPT_DECRYPT/ASYMMETRIC"
    return key_usage


@cache
def failing_in_state(state: str) -> frozenset[str]:
    """Operations that fail, although authorized, on a key in `state` (R9.2)."""
    row = _load("kms-actions.json")["key_state_failures"].get(state)
    if row is None:
        return frozenset()
    crypto = crypto_operations() if row["cryptographic"] else frozenset()
    return crypto | frozenset(row["also"])


# --------------------------------------------------------------------------
# condition keys (R5, R6.8, R8.2, 10.11); every name lower-cased


@cache
def _keys() -> dict[str, Any]:
    facts: dict[str, Any] = _load("condition-keys.json")
    return facts


def _lower(names: list[str]) -> frozenset[str]:
    return frozenset(n.lower() for n in names)


@cache
def multi_valued_keys() -> frozenset[str]:
    return _lower(_keys()["multi_valued"])


def is_multi_valued(name: str) -> bool:
    """A key whose value is a set of strings (R6.8)."""
    return name.lower() in multi_valued_keys()


@cache
def single_valued_keys() -> tuple[frozenset[str], tuple[str, ...]]:
    """(global keys known to hold one value, prefixes of such keys)."""
    data = _keys()
    return _lower(data["single_valued"]), tuple(p.lower() for p in data["single_valued_prefixes"])


def absent_in_key_policies(name: str) -> bool:
    """A key only IAM policies see: in a key policy it is always absent (10.11)."""
    low = name.lower()
    data = _keys()["absent_in_key_policies"]
    return low in _lower(data["keys"]) or low.startswith(tuple(p.lower() for p in data["prefixes"]))


@cache
def not_forwarded_keys() -> frozenset[str]:
    """Keys the forward access session of S3's KMS call does not carry (R8.2)."""
    return _lower(_keys()["not_forwarded"])


@cache
def derived_keys() -> frozenset[str]:
    """Keys AWS derives from the caller, the key and the request (R5.2, R5.3)."""
    return _lower(_keys()["derived"])


@cache
def any_action_keys() -> frozenset[str]:
    """Global keys any request may carry, whatever the action (R5.3)."""
    return _lower(_keys()["any_action"])


# --------------------------------------------------------------------------
# names a request can carry (specs/services.json)


@cache
def _services() -> dict[str, Any]:
    facts: dict[str, Any] = _load("services.json")
    return facts


@cache
def regions() -> tuple[str, ...]:
    return tuple(_services()["regions"])


@cache
def via_services() -> tuple[str, ...]:
    """Services whose endpoint kms:ViaService names (`SERVICE.REGION.amazonaws.com`)."""
    return tuple(_services()["via_services"])


@cache
def service_principals() -> tuple[str, ...]:
    return tuple(_services()["service_principals"])


@cache
def extra_kms_keys() -> tuple[str, ...]:
    return tuple(_keys()["extra_kms_keys"])


# --------------------------------------------------------------------------
# the values a context key can take (specs/value-shapes.json)

_REF = re.compile(r"<([a-z0-9-]+)>")


@cache
def _shape_facts() -> dict[str, Any]:
    facts: dict[str, Any] = _load("value-shapes.json")
    return facts


@cache
def shape(name: str) -> str:
    """A named shape as a regular expression, every `<name>` in it expanded (in
    parentheses)."""
    text: str = _shape_facts()["shapes"][name]
    return _REF.sub(lambda m: f"({shape(m.group(1))})", text)


@cache
def value_shapes() -> dict[str, str]:
    """Lower-cased context key -> the regular expression its every value matches (a
    list of values is their alternation)."""
    out = {}
    for key, spec in _shape_facts()["keys"].items():
        out[key.lower()] = (
            shape(spec) if isinstance(spec, str) else "|".join(re.escape(v) for v in spec)
        )
    return out


def value_shape(name: str) -> str | None:
    return value_shapes().get(name.lower())


@cache
def shape_values(name: str) -> tuple[str, ...] | None:
    """The only values a key takes when the table lists them (an enumeration)."""
    spec = next((v for k, v in _shape_facts()["keys"].items() if k.lower() == name.lower()), None)
    return tuple(spec) if isinstance(spec, list) else None


@cache
def shape_examples(name: str) -> tuple[str, ...]:
    """Values of a key AWS could send: its enumeration, or its shape's examples."""
    spec = next((v for k, v in _shape_facts()["keys"].items() if k.lower() == name.lower()), None)
    if isinstance(spec, list):
        return tuple(spec)
    return tuple(_shape_facts()["examples"].get(spec, ())) if spec else ()


def shape_name(key: str) -> str | None:
    """The named shape a key takes (`arn`, `account`), None for an enumeration."""
    spec = next((v for k, v in _shape_facts()["keys"].items() if k.lower() == key.lower()), None)
    return spec if isinstance(spec, str) else None


def shape_description(name: str) -> str:
    """What a key's values look like, for messages."""
    spec = next((v for k, v in _shape_facts()["keys"].items() if k.lower() == name.lower()), None)
    if isinstance(spec, list):
        return "one of " + ", ".join(spec)
    descriptions: dict[str, str] = _shape_facts()["descriptions"]
    return descriptions.get(spec or "", "")


@cache
def required_keys(action: str) -> tuple[str, ...]:
    """Context keys an operation is never sent without (its required parameters)."""
    req = _shape_facts()["required"]
    return tuple(next((v for k, v in req.items() if k.lower() == action.lower()), ()))


def action_info(action: str) -> ActionInfo | None:
    return kms_catalog().get(action.lower())


def canonical_action(action: str) -> str:
    """AWS's spelling of a known KMS action (`KMS:decrypt` -> `kms:Decrypt`)."""
    info = action_info(action)
    return info.name if info else action


def takes_alias(info: ActionInfo) -> bool:
    """The operation accepts an alias as its KeyId: exactly those that supply
    kms:RequestAlias (conditions-kms, kms:RequestAlias)."""
    return "kms:RequestAlias" in info.condition_keys


def grant_operations() -> tuple[str, ...]:
    return tuple(sorted(i.short for i in kms_catalog().values() if i.grant_operation))


@cache
def _glob(pattern: str) -> re.Pattern[str]:
    parts = []
    for ch in pattern:
        if ch == "*":
            parts.append(".*")
        elif ch == "?":
            parts.append(".")
        else:
            parts.append(re.escape(ch))
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def action_matches(pattern: str, action: str) -> bool:
    """Whether an Action entry covers an action: case-insensitive glob (R3.6)."""
    return _glob(pattern).fullmatch(action) is not None


def expand(pattern: str) -> tuple[str, ...]:
    """The catalogue's KMS actions a pattern covers (`kms:Gen*` -> six actions)."""
    return tuple(sorted(i.name for i in kms_catalog().values() if action_matches(pattern, i.name)))

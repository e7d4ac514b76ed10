"""Is a request one AWS could receive? (`kmsprove validate --kind request`)

A request file says what a caller sends; `explain` decides any request it is given,
AWS receives only some. This checks the ones it never receives: a caller that is no
principal, an action it does not have, a key reference of no KeyId form, a context key
the action never carries, a value of a shape AWS never sends (specs/value-shapes.json:
an account id of 11 digits, a grantee that is no principal, an empty GrantOperations),
an operation without a parameter it requires. The solver's witnesses pass it (a
property test holds this). No world is needed: a key the world lacks is `explain`'s
business.
"""

from __future__ import annotations

import re

from kmsprove.arn import KEY_ID_RE, parse_arn, parse_caller
from kmsprove.catalog import (
    action_info,
    any_action_keys,
    derived_keys,
    is_multi_valued,
    kms_catalog,
    required_keys,
    s3_facts,
    shape,
    shape_description,
    value_shape,
)
from kmsprove.errors import Diagnostic, SourcePos, error, suggest, warning
from kmsprove.request import Request
from kmsprove.syntax.tree import JNode, JObject

UNSIGNED = ("anonymous", "*")
_ALIAS_NAME = re.compile(r"alias/[a-zA-Z0-9/_-]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# keys any request may carry (global condition keys AWS adds itself, or the caller's)
_GLOBAL_PREFIXES = ("aws:",)


def check_request(req: Request, root: JObject) -> list[Diagnostic]:
    """What in the request AWS would never receive (errors) or kmsprove reads another
    way than written (warnings)."""
    out: list[Diagnostic] = []
    out += _caller(req, _at(root, "principal"))
    info = action_info(req.action)
    is_s3 = req.action in s3_facts()["sse_kms"]
    if info is None and not is_s3:
        known = [i.name for i in kms_catalog().values()] + list(s3_facts()["sse_kms"])
        out.append(
            error(
                _at(root, "action"), f"unknown action `{req.action}`" + suggest(req.action, known)
            )
        )
    out += _key(req, root)
    out += _context(req, root)
    if info is not None:
        have = set(req.context.values)
        for need in required_keys(info.name):
            if need.lower() not in have:
                out.append(
                    error(
                        _at(root, "context"),
                        f"{info.name} is never sent without `{need}` (a required parameter)",
                    )
                )
        if info.short == "RevokeGrant" and not (req.grant_id or "kms:grantid" in have):
            out.append(error(root.pos, "RevokeGrant is never sent without a grant id (`grant_id`)"))
    if req.via_vpce is not None and not re.fullmatch(
        value_shape("aws:SourceVpce") or "", req.via_vpce
    ):
        out.append(
            error(_at(root, "via_vpce"), f"`{req.via_vpce}` is not a VPC endpoint id (vpce-...)")
        )
    return out


def _at(root: JObject, name: str) -> SourcePos:
    node = root.get(name)
    return node.pos if node is not None else root.pos


def _caller(req: Request, pos: SourcePos) -> list[Diagnostic]:
    if req.principal in UNSIGNED:
        return []
    c = parse_caller(req.principal)
    if c.kind == "service":
        if not re.fullmatch(shape("service-principal"), req.principal):
            return [
                error(pos, f"`{req.principal}` is not a service principal (NAME.amazonaws.com)")
            ]
        return []
    if c.kind == "role":
        return [
            warning(
                pos,
                f"`{req.principal}` is a role, not a caller: kmsprove decides the request for"
                " a session of it (`arn:aws:sts::ACCOUNT:assumed-role/NAME/kmsprove`)",
            )
        ]
    if c.kind == "unknown" or not re.fullmatch(shape("iam-principal"), req.principal):
        return [
            error(
                pos,
                f"`{req.principal}` is not a caller: give an IAM user, assumed-role session,"
                " federated user, account root or service principal",
            )
        ]
    return []


def _key(req: Request, root: JObject) -> list[Diagnostic]:
    out = []
    for field, ref in (("key", req.key), ("key_id_as_sent", req.key_id_as_sent)):
        if ref is None or _is_key_ref(ref):
            continue
        out.append(
            error(
                _at(root, field),
                f"`{ref}` is no way to name a key: give a key ARN, alias ARN, key ID or alias/NAME",
            )
        )
    info = action_info(req.action)
    if info is not None and not info.on_key and req.key is not None:
        out.append(
            warning(
                _at(root, "key"),
                f"{info.name} acts on the caller's account, not on a key: the key is ignored",
            )
        )
    return out


def _is_key_ref(ref: str) -> bool:
    a = parse_arn(ref)
    if a is not None:
        if a.service != "kms" or not re.fullmatch(shape("account"), a.account):
            return False
        if not re.fullmatch(shape("region"), a.region):
            return False
        if a.resource.startswith("key/"):
            return KEY_ID_RE.fullmatch(a.resource[4:]) is not None
        return _ALIAS_NAME.fullmatch(a.resource) is not None
    return KEY_ID_RE.fullmatch(ref) is not None or _ALIAS_NAME.fullmatch(ref) is not None


def _context(req: Request, root: JObject) -> list[Diagnostic]:
    node = root.get("context")
    where: dict[str, tuple[SourcePos, JNode]] = {}
    if isinstance(node, JObject):
        where = {m.key.lower(): (m.key_pos, m.value) for m in node.members}
    info = action_info(req.action)
    service = parse_caller(req.principal).kind == "service"
    out: list[Diagnostic] = []
    for low, values in req.context.values.items():
        name = req.context.names[low]
        key_pos, value = where.get(low, (root.pos, root))
        if (
            info is not None
            and low.startswith("kms:")
            and not _supplies(info.condition_keys, low)
            and low not in derived_keys()
        ):
            out.append(error(key_pos, f"{info.name} never carries `{name}`"))
        if low in ("aws:sourcearn", "aws:sourceaccount") and not service:
            out.append(error(key_pos, f"only a service acting for a resource sends `{name}`"))
        if not values and is_multi_valued(low):
            out.append(error(value.pos, f"`{name}` is never an empty list"))
        pattern = value_shape(low)
        for v in values:
            if _CONTROL.search(v):
                out.append(error(value.pos, f"`{name}` holds a control character"))
            elif pattern is not None and not re.fullmatch(pattern, v):
                out.append(
                    error(
                        value.pos,
                        f"`{v}` is not a value AWS sends for `{name}`:"
                        f" it takes {shape_description(low)}",
                    )
                )
    return out


def _supplies(keys: tuple[str, ...], low: str) -> bool:
    if low in any_action_keys() or low.startswith(_GLOBAL_PREFIXES):
        return True
    return any(
        k.lower() == low or (k.endswith("*") and low.startswith(k[:-1].lower())) for k in keys
    )

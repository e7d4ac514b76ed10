"""AST stage: positioned JSON -> `Grant`, one ListGrants entry (R4.1), with every
structural problem. Bulk files (50,000 grants) take a fast path that reads the decoded
value and builds nodes only to report a problem; a test holds both paths equal.
"""

from __future__ import annotations

from kmsprove.ast import Grant
from kmsprove.errors import Diagnostic, suggest
from kmsprove.syntax.policy import Ctx, strings
from kmsprove.syntax.tree import JArray, JNode, JNumber, JObject, JString, kind_name, to_python

Pairs = tuple[tuple[str, str], ...]


GRANT_FIELDS = (
    "KeyId",
    "GrantId",
    "Name",
    "CreationDate",
    "GranteePrincipal",
    "GranteeServicePrincipal",
    "RetiringPrincipal",
    "RetiringServicePrincipal",
    "IssuingAccount",
    "Operations",
    "Constraints",
    "GrantToken",
)
CONSTRAINT_FIELDS = ("EncryptionContextSubset", "EncryptionContextEquals", "SourceArn")


def build_grant(node: JNode, ctx_diags: list[Diagnostic], default_key: str = "") -> Grant | None:
    """A `Grant` from one ListGrants entry; problems go to `ctx_diags`."""
    if isinstance(node, JObject) and node.is_lazy:
        # bulk files: read the decoded value; build nodes only to report a problem
        fast = _plain_grant(to_python(node), node, default_key)
        if fast is not None:
            return fast
    ctx = Ctx(ctx_diags)
    if not isinstance(node, JObject):
        ctx.err(node, f"a grant must be a JSON object, not {kind_name(node)}")
        return None
    vals: dict[str, str] = {}
    ops: tuple[str, ...] = ()
    subset = equals = None
    source_arn = None
    for m in node.members:
        v = m.value
        if m.key not in GRANT_FIELDS:
            if m.key != "consistent":  # kmsprove-only note on eventual consistency (R4.9)
                ctx.err_at(
                    m.key_pos, f"unknown grant field `{m.key}`" + suggest(m.key, GRANT_FIELDS)
                )
            continue
        if m.key == "Operations":
            # an empty list is reported by `validate.check_grant` ("grant has no operations")
            empty = isinstance(v, JArray) and not v.items
            ops = () if empty else strings(v, "Operations", ctx) or ()
        elif m.key == "Constraints":
            subset, equals, source_arn = _constraints(v, ctx)
        elif isinstance(v, JString):
            vals[m.key] = v.value
        elif m.key == "CreationDate" and isinstance(v, JNumber):
            pass  # AWS CLI v1 prints the creation date as epoch seconds
        else:
            ctx.err(v, f"`{m.key}` must be a string, not {kind_name(v)}")
    if "GranteePrincipal" not in vals and "GranteeServicePrincipal" not in vals:
        ctx.err(node, "grant has no `GranteePrincipal` or `GranteeServicePrincipal`")
    return _grant(vals, ops, (subset, equals, source_arn), default_key, node)


def _grant(
    fields: dict[str, str],
    operations: tuple[str, ...],
    constraints: tuple[Pairs | None, Pairs | None, str | None],
    default_key: str,
    node: JNode,
) -> Grant:
    """The `Grant` both paths build from the same checked fields."""
    subset, equals, source_arn = constraints
    issuing = fields.get("IssuingAccount")
    if issuing and issuing.startswith("arn:") and issuing.count(":") >= 5:
        issuing = issuing.split(":")[4]  # an ARN of the issuing account: keep its id
    return Grant(
        grant_id=fields.get("GrantId", ""),
        key_id=fields.get("KeyId", default_key),
        operations=operations,
        grantee=fields.get("GranteePrincipal"),
        grantee_service=fields.get("GranteeServicePrincipal"),
        retiring=fields.get("RetiringPrincipal"),
        retiring_service=fields.get("RetiringServicePrincipal"),
        ec_subset=subset,
        ec_equals=equals,
        source_arn=source_arn,
        issuing_account=issuing,
        name=fields.get("Name", ""),
        pos=node.pos,
    )


def _pairs(value: object) -> tuple[tuple[str, str], ...] | None:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        return None
    return tuple(value.items())


def _plain_grant(raw: object, node: JNode, default_key: str) -> Grant | None:
    """The same `Grant` as the node path builds, or None when anything is off."""
    if not isinstance(raw, dict) or not set(raw) <= {*GRANT_FIELDS, "consistent"}:
        return None
    skip = ("Operations", "Constraints", "consistent", "CreationDate")
    fields = {k: v for k, v in raw.items() if k not in skip}
    if not isinstance(raw.get("CreationDate", ""), (str, int, float)):
        return None
    if not all(isinstance(v, str) for v in fields.values()):
        return None
    ops = raw.get("Operations")
    if not isinstance(ops, list) or not ops or not all(isinstance(o, str) for o in ops):
        return None
    if "GranteePrincipal" not in raw and "GranteeServicePrincipal" not in raw:
        return None
    cons = raw.get("Constraints", {})
    if not isinstance(cons, dict) or not set(cons) <= set(CONSTRAINT_FIELDS):
        return None
    subset = _pairs(cons["EncryptionContextSubset"]) if "EncryptionContextSubset" in cons else None
    equals = _pairs(cons["EncryptionContextEquals"]) if "EncryptionContextEquals" in cons else None
    source_arn = cons.get("SourceArn")
    if (
        ("EncryptionContextSubset" in cons and subset is None)
        or ("EncryptionContextEquals" in cons and equals is None)
        or (subset is not None and equals is not None)
        or not isinstance(source_arn, (str, type(None)))
    ):
        return None
    return _grant(fields, tuple(ops), (subset, equals, source_arn), default_key, node)


def _constraints(
    node: JNode, ctx: Ctx
) -> tuple[tuple[tuple[str, str], ...] | None, tuple[tuple[str, str], ...] | None, str | None]:
    if not isinstance(node, JObject):
        ctx.err(node, f"`Constraints` must be an object, not {kind_name(node)}")
        return None, None, None
    found: dict[str, tuple[tuple[str, str], ...]] = {}
    source_arn = None
    for m in node.members:
        if m.key not in CONSTRAINT_FIELDS:
            ctx.err_at(
                m.key_pos,
                f"unknown grant constraint `{m.key}`" + suggest(m.key, CONSTRAINT_FIELDS),
            )
            continue
        v = m.value
        if m.key == "SourceArn":
            if isinstance(v, JString):
                source_arn = v.value
            else:
                ctx.err(v, f"`SourceArn` must be a string, not {kind_name(v)}")
            continue
        if not isinstance(v, JObject):
            ctx.err(v, f"`{m.key}` must be an object of string pairs, not {kind_name(v)}")
            continue
        pairs = []
        for pm in v.members:
            if isinstance(pm.value, JString):
                pairs.append((pm.key, pm.value.value))
            else:
                ctx.err(
                    pm.value,
                    f"encryption context values must be strings, not {kind_name(pm.value)}",
                )
        found[m.key] = tuple(pairs)
    if len(found) > 1:
        ctx.err(
            node,
            "a grant can have `EncryptionContextSubset` or `EncryptionContextEquals`, not both",
        )
    return found.get("EncryptionContextSubset"), found.get("EncryptionContextEquals"), source_arn

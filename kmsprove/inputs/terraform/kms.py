"""Terraform KMS resources -> `Key`s: `aws_kms_key`, `aws_kms_external_key`,
`aws_kms_replica_key`, `aws_kms_replica_external_key`, with `aws_kms_key_policy`,
`aws_kms_alias` and `aws_kms_grant`.

- A key's policy is its `aws_kms_key_policy`'s when one targets it, else its own
  `policy`; none given (null, "", not configured, or a module variable nobody sets)
  is the default key policy AWS installs (R7.2).
- A grant is a ListGrants entry: GranteePrincipal, RetiringPrincipal, Operations,
  Constraints (EncryptionContextEquals / EncryptionContextSubset), Name, GrantId (a
  placeholder derived from the address until apply), IssuingAccount (the plan's).
- Which key an attribute names: its value (a key ARN, key id, alias name or alias ARN of
  a key of the plan), else, when only apply will tell, the one key resource its
  expression references (`Plan.referenced`); otherwise it is unsettled.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from kmsprove.arn import key_arn_parts
from kmsprove.ast import Grant, Policy, PolicyKind
from kmsprove.inputs.documents import policy_from_value
from kmsprove.inputs.standins import default_key_policy
from kmsprove.inputs.terraform.context import ABSENT, Context
from kmsprove.inputs.terraform.place import (
    KEY_TYPES,
    iam_arn,
    node_of,
    placeholder_grant_id,
    placeholder_key_id,
)
from kmsprove.inputs.terraform.plan import Resource
from kmsprove.inputs.terraform.values import Value
from kmsprove.syntax.tree import JBool, JObject, JString
from kmsprove.world import Key

REPLICAS = ("aws_kms_replica_key", "aws_kms_replica_external_key")
ALIAS_KEYS = ("kms:RequestAlias", "kms:ResourceAliases", ":alias/")
UNSETTLED = "unknown"  # `find_key`: the attribute names a key only apply will tell


@dataclass
class Draft:
    """A key while the plan is read: its ARN first, the rest as resources add to it."""

    res: Resource
    arn: str
    policy: Policy | None = None
    aliases: list[str] = field(default_factory=list)
    grants: list[Grant] = field(default_factory=list)
    spec: tuple[str, str, str] = ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", "AWS_KMS")
    multi_region: bool = False
    replica: bool = False

    @property
    def key_id(self) -> str:
        return self.arn.split("/", 1)[1]


def read_keys(ctx: Context) -> tuple[list[Key], list[Draft]]:
    """Every key the plan will have, with its policy, aliases and grants (and the
    drafts, which buckets name their default keys by)."""
    drafts = [_draft(ctx, r) for r in ctx.plan.of_type(*KEY_TYPES[:2]) if r.mode == "managed"]
    drafts += [_replica(ctx, r, drafts) for r in ctx.plan.of_type(*REPLICAS) if r.mode == "managed"]
    for r in ctx.plan.of_type("aws_kms_alias"):
        _alias(ctx, r, drafts)
    managed = set()
    for r in ctx.plan.of_type("aws_kms_key_policy"):
        target = _target(ctx, r, "key_id", drafts, "key policy")
        if target is not None:
            if target.res.address in managed:
                ctx.warn(r.node, f"a second `aws_kms_key_policy` for `{target.res.address}`")
            managed.add(target.res.address)
            target.policy = _policy(ctx, r, target, "policy")
    for d in drafts:
        if d.res.address not in managed:
            d.policy = _policy(ctx, d.res, d, "policy")
    for r in ctx.plan.of_type("aws_kms_grant"):
        target = _target(ctx, r, "key_id", drafts, "grant")
        grant = _grant(ctx, r, target) if target is not None else None
        if target is not None and grant is not None:
            target.grants.append(grant)
    return [_key(ctx, d) for d in drafts if d.policy is not None], drafts


def _key(ctx: Context, d: Draft) -> Key:
    assert d.policy is not None
    state = "Enabled"
    for name in ("is_enabled", "enabled"):
        flag = d.res.attr(name).node
        if isinstance(flag, JBool) and not flag.value:
            state = "Disabled"
    return Key(
        arn=d.arn,
        policy=d.policy,
        grants=tuple(d.grants),
        aliases=tuple(dict.fromkeys(d.aliases)),
        key_spec=d.spec[0],
        key_usage=d.spec[1],
        origin=d.spec[2],
        multi_region=d.multi_region,
        multi_region_key_type=("REPLICA" if d.replica else "PRIMARY") if d.multi_region else None,
        tags=_tags(ctx, d),
        state=state,
        pos=d.res.node.pos,
    )


def _draft(ctx: Context, r: Resource) -> Draft:
    multi = r.attr("multi_region")
    multi_region = isinstance(multi.node, JBool) and multi.node.value
    arn = _known_arn(r) or _placeholder(ctx, r, ctx.place.account, multi_region)
    if _configured_unknown(r, "multi_region") and ctx.mentions("kms:MultiRegion"):
        ctx.unsettled(r, "`multi_region` is known only after apply", arn, multi.where)
    external = r.type == "aws_kms_external_key"
    origin = "EXTERNAL" if external else "AWS_KMS"
    if r.attr("xks_key_id").string:
        origin = "EXTERNAL_KEY_STORE"
    elif r.attr("custom_key_store_id").string:
        origin = "AWS_CLOUDHSM"
    spec_attr = "key_spec" if external else "customer_master_key_spec"
    spec = (
        _setting(ctx, r, spec_attr, "SYMMETRIC_DEFAULT", arn),
        _setting(ctx, r, "key_usage", "ENCRYPT_DECRYPT", arn),
        origin,
    )
    return Draft(r, arn, spec=spec, multi_region=multi_region)


def _configured_unknown(r: Resource, attr: str) -> bool:
    """Known only after apply, and set by the configuration (not AWS's default)."""
    return r.attr(attr).is_unknown and (r.config is None or r.expression(attr) is not None)


def _setting(ctx: Context, r: Resource, attr: str, default: str, arn: str) -> str:
    """A key property; one the configuration sets and only apply tells is unsettled
    (one it does not set is AWS's default)."""
    v = r.attr(attr)
    if _configured_unknown(r, attr):
        ctx.unsettled(r, f"`{attr}` is known only after apply", arn, v.where)
    return v.string or default


def _known_arn(r: Resource) -> str | None:
    arn = r.attr("arn").string
    return arn if arn and key_arn_parts(arn) is not None else None


def _placeholder(ctx: Context, r: Resource, account: str, multi_region: bool) -> str:
    region = ctx.place.region_of(ctx.plan, r)
    arn = f"arn:{ctx.place.partition}:kms:{region}:{account}:key/"
    arn += placeholder_key_id(r.address, multi_region)
    ctx.warn(
        node_of(r, "arn"),
        f"`{r.address}`: its ARN is known only after apply: kmsprove calls it `{arn}`",
    )
    return arn


def _replica(ctx: Context, r: Resource, drafts: list[Draft]) -> Draft:
    """A replica has its primary's key id, account and spec, in its own Region."""
    found = find_key(ctx, r, "primary_key_arn", drafts)
    region = ctx.place.region_of(ctx.plan, r)
    arn = _known_arn(r)
    spec = ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", "AWS_KMS")
    if isinstance(found, Draft):
        spec, account = found.spec, found.arn.split(":")[4]
        if arn is None:
            arn = f"arn:{ctx.place.partition}:kms:{region}:{account}:key/{found.key_id}"
            if arn == found.arn:  # its Region is not told apart from the primary's
                arn = _placeholder(ctx, r, account, True)
    else:
        parts = key_arn_parts(r.attr("primary_key_arn").string or "")
        if arn is None and parts is not None:
            arn = f"arn:{ctx.place.partition}:kms:{region}:{parts[1]}:key/{parts[2]}"
        arn = arn or _placeholder(ctx, r, ctx.place.account, True)
        why = (
            "`primary_key_arn` is known only after apply and names no one key of the plan"
            if found == UNSETTLED
            else "its primary key is not in the plan, so its key spec is not known"
        )
        ctx.unsettled(r, why, arn, r.attr("primary_key_arn").where)
    if r.type == "aws_kms_replica_external_key":
        spec = (spec[0], spec[1], "EXTERNAL")
    return Draft(r, arn, spec=spec, multi_region=True, replica=True)


def _policy(ctx: Context, r: Resource, d: Draft, attr: str) -> Policy | None:
    v = r.attr(attr)
    # not set at all (no expression, or a module variable nobody sets): AWS installs
    # its default, and nothing is unknown
    unset = r.config is not None and (
        r.expression(attr) is None or ctx.plan.variable_unset(r, attr)
    )
    doc = (
        ABSENT if v.is_unknown and unset else ctx.policy_attr(r, attr, PolicyKind.KEY_POLICY, d.arn)
    )
    if doc.status == "absent":
        account = d.arn.split(":")[4]
        policy = policy_from_value(
            default_key_policy(account, ctx.place.partition),
            PolicyKind.KEY_POLICY,
            f"{r.address} (default key policy, R7.2)",
            r.node.pos.file,
        )
        # explain points at the resource that gets AWS's default
        at = r.node.pos
        return replace(
            policy, pos=at, statements=tuple(replace(s, pos=at) for s in policy.statements)
        )
    return doc.policy


def find_key(
    ctx: Context, r: Resource, attr: str, drafts: list[Draft], value: Value | None = None
) -> Draft | str | None:
    """The key `attr` of `r` (`value`, for one inside a block) names: a draft,
    `UNSETTLED`, or None (not a key of the plan)."""
    v = value if value is not None else r.attr(attr)
    text = v.string
    if text is not None:
        for d in drafts:
            if text in (d.arn, d.key_id) or _names_alias(d, text):
                return d
        return None
    if not v.is_unknown:
        return None
    addresses = {t.address for t in ctx.plan.referenced(r, attr, KEY_TYPES)}
    matches = [d for d in drafts if d.res.address in addresses]
    return matches[0] if len(matches) == 1 else UNSETTLED


def _names_alias(d: Draft, text: str) -> bool:
    if text.startswith("alias/"):
        return text in d.aliases
    if ":alias/" in text:  # an alias ARN names the key's Region and account
        here = text.split(":")[3:5] == d.arn.split(":")[3:5]
        return here and text.split(":", 5)[5] in d.aliases
    return False


def _target(ctx: Context, r: Resource, attr: str, drafts: list[Draft], what: str) -> Draft | None:
    """The key `attr` names; unsettled for every key when only apply tells which."""
    found = find_key(ctx, r, attr, drafts)
    if found == UNSETTLED:
        ctx.unsettled(
            r,
            f"`{attr}` is known only after apply and names no one key of the plan",
            None,
            r.attr(attr).where,
        )
        return None
    if found is None:
        given = r.attr(attr).string or ""
        ctx.warn(
            node_of(r, attr), f"`{r.address}`: {what} for `{given}`, a key not in the plan: ignored"
        )
    return found if isinstance(found, Draft) else None


def _alias(ctx: Context, r: Resource, drafts: list[Draft]) -> None:
    d = _target(ctx, r, "target_key_id", drafts, "alias")
    if d is None:
        return
    name = r.attr("name")
    if name.string:
        d.aliases.append(name.string)
    elif ctx.mentions(*ALIAS_KEYS):
        ctx.unsettled(r, "its alias name is known only after apply", d.arn, name.where)
    else:
        ctx.warn(
            node_of(r, "name"),
            f"`{r.address}`: its alias name is known only after apply; no policy of the plan "
            "tests aliases, so no answer depends on it",
        )


def _grant(ctx: Context, r: Resource, d: Draft) -> Grant | None:
    """The ListGrants entry `r` will create, or None (unsettled, or bad: reported)."""
    settled = True
    principals: dict[str, str | None] = {}
    for attr in ("grantee_principal", "retiring_principal"):
        v = r.attr(attr)
        if v.is_unknown:
            principals[attr] = principal_after_apply(ctx, r, attr, d.arn)
            settled = settled and principals[attr] is not None
        else:
            principals[attr] = v.string or None
    ops_value = r.attr("operations")
    ops = tuple(i.string for i in ops_value.items() if i.string is not None)
    subset: dict[str, str] = {}
    equals: dict[str, str] = {}
    constraints = r.attr("constraints")
    for block in constraints.items():
        for name, into in (
            ("encryption_context_subset", subset),
            ("encryption_context_equals", equals),
        ):
            pairs = block.at(name).node
            if isinstance(pairs, JObject):
                into.update(
                    (m.key, m.value.value) for m in pairs.members if isinstance(m.value, JString)
                )
    for attr, v in (("operations", ops_value), ("constraints", constraints)):
        if v.is_unknown:
            ctx.unsettled(r, f"`{attr}` is known only after apply", d.arn, v.where)
            settled = False
    if not settled:
        return None
    grant_id = r.attr("grant_id").string or placeholder_grant_id(r.address)
    return Grant(
        grant_id=grant_id,
        key_id=d.arn,
        operations=ops,
        grantee=principals["grantee_principal"],
        retiring=principals["retiring_principal"],
        ec_subset=tuple(subset.items()) if subset else None,
        ec_equals=tuple(equals.items()) if equals else None,
        issuing_account=ctx.place.account,
        name=r.attr("name").string or "",
        pos=r.node.pos,
    )


def principal_after_apply(ctx: Context, r: Resource, attr: str, key: str | None) -> str | None:
    """An ARN known only after apply: that of the one role or user the expression
    references, when AWS's ARN for it follows from the plan; else unsettled (None)."""
    refs = ctx.plan.referenced(r, attr, ("aws_iam_role", "aws_iam_user"))
    if len(refs) == 1:
        target = refs[0]
        kind = target.type.removeprefix("aws_iam_")
        arn = target.attr("arn").string or iam_arn(
            ctx.place, kind, target.attr("name").string, target.attr("path").string
        )
        if arn is not None:
            ctx.warn(
                node_of(r, attr),
                f"`{r.address}`: `{attr}` is known only after apply: the ARN of "
                f"`{target.address}`, `{arn}`",
            )
            return arn
    ctx.unsettled(r, f"`{attr}` is known only after apply", key, r.attr(attr).where)
    return None


def _tags(ctx: Context, d: Draft) -> tuple[tuple[str, str], ...]:
    """`tags_all` (with the provider's default tags), else `tags`."""
    for name in ("tags_all", "tags"):
        v = d.res.attr(name)
        if isinstance(v.node, JObject) and not v.is_unknown:
            return tuple(
                (m.key, m.value.value) for m in v.node.members if isinstance(m.value, JString)
            )
        if v.is_unknown and ctx.mentions("ResourceTag", "aws:TagKeys"):
            ctx.unsettled(d.res, f"`{name}` is known only after apply", d.arn, v.where)
            return ()
    return ()

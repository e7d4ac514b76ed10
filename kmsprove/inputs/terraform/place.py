"""Where a plan's resources land: the account and Region of each, and the names of what
only apply will name.

- A resource whose ARN the plan knows is where its ARN says.
- Otherwise it is in the plan's account: the `account_id` of `data.aws_caller_identity`
  (the credentials the plan ran with), else the account of the ARNs the plan knows for
  its own keys, roles, users, groups and policies, else `--account`, else
  `DEFAULT_ACCOUNT` (said in a warning and in every answer).
- Its Region: its `region` argument (AWS provider 6), else the `region` of its provider
  configuration when that is a constant, else the plan's Region (`data.aws_region`, the
  default provider's constant `region`, the Region of the plan's known key ARNs), else
  `--region`, else `DEFAULT_REGION` (said).
- A key whose ARN is known only after apply gets a placeholder key id derived from its
  address (`placeholder_key_id`), so two plans of the same configuration name it alike
  and `diff` compares them key by key; an IAM ARN known only after apply is the one AWS
  forms from the name and path the plan gives (`iam_arn`).
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field

from kmsprove.arn import ACCOUNT_RE, REGION_RE, parse_arn
from kmsprove.errors import Diagnostic, warning
from kmsprove.inputs.options import DEFAULT_ACCOUNT, DEFAULT_REGION, ReadOptions
from kmsprove.inputs.terraform.plan import Plan, Resource, provider_key
from kmsprove.syntax.tree import JNode

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://kmsprove.invalid/terraform")
OWN_ARNS = (
    "aws_kms_key",
    "aws_kms_external_key",
    "aws_kms_replica_key",
    "aws_kms_replica_external_key",
    "aws_iam_role",
    "aws_iam_user",
    "aws_iam_group",
    "aws_iam_policy",
)
KEY_TYPES = OWN_ARNS[:4]


@dataclass
class Place:
    """The plan's account and Region; a default one counts as assumed once it is used."""

    _account: str
    _region: str
    partition: str = "aws"
    defaults: dict[str, str] = field(default_factory=dict)  # what -> note, for defaults
    used: set[str] = field(default_factory=set)

    @property
    def account(self) -> str:
        self.used.add("account")
        return self._account

    @property
    def region(self) -> str:
        self.used.add("Region")
        return self._region

    @property
    def assumed(self) -> list[str]:
        """The defaults some resource was placed by: every answer says them."""
        return [note for what, note in self.defaults.items() if what in self.used]

    def region_of(self, plan: Plan, res: Resource) -> str:
        own = res.attr("region").string
        if own and REGION_RE.fullmatch(own):
            return own
        key = provider_key(res)
        if key is not None and key in plan.provider_regions:
            return plan.provider_regions[key]
        return self.region


def place(plan: Plan, options: ReadOptions, diags: list[Diagnostic]) -> Place:
    """The plan's account and Region, and what was assumed to get them."""
    where = plan.root
    known = [a for r in plan.of_type(*OWN_ARNS) if (a := parse_arn(r.attr("arn").string or ""))]
    partition = Counter(a.partition for a in known).most_common(1)
    place = Place(DEFAULT_ACCOUNT, DEFAULT_REGION, partition[0][0] if partition else "aws")
    account = _first_attr(plan, "aws_caller_identity", ("account_id",))
    if account is None:
        ids = Counter(a.account for a in known if ACCOUNT_RE.fullmatch(a.account))
        account = ids.most_common(1)[0][0] if ids else None
    region = _first_attr(plan, "aws_region", ("region", "name")) or plan.provider_regions.get("aws")
    if region is None:
        regions = Counter(a.region for a in known if a.service == "kms" and a.region)
        region = regions.most_common(1)[0][0] if regions else None
    for what, found, given, default in (
        ("account", account, options.account, DEFAULT_ACCOUNT),
        ("Region", region, options.region, DEFAULT_REGION),
    ):
        value = found or given or default
        if found and given and found != given and where is not None:
            diags.append(
                warning(where.pos, f"`--{what.lower()} {given}` ignored: the input says {found}")
            )
        if not found and not given:
            place.defaults[what] = (
                f"{what} {default}: the input does not say where its resources go "
                f"(give `--{what.lower()}`)"
            )
        if what == "account":
            place._account = value
        else:
            place._region = value
    return place


def default_warnings(place: Place, root: JNode) -> list[Diagnostic]:
    """A warning for each default some resource was placed by."""
    return [warning(root.pos, f"assumed {note}") for note in place.assumed]


def _first_attr(plan: Plan, data_type: str, names: tuple[str, ...]) -> str | None:
    for res in plan.of_type(data_type):
        if res.mode != "data":
            continue
        for name in names:
            value = res.attr(name).string
            if value:
                return value
    return None


def placeholder_key_id(address: str, multi_region: bool) -> str:
    """A key id for a key whose id only apply will tell: derived from its address."""
    u = uuid.uuid5(NAMESPACE, address)
    return f"mrk-{u.hex}" if multi_region else str(u)


def placeholder_grant_id(address: str) -> str:
    """A grant id (64 hex digits, as AWS's) for a grant whose id only apply will tell."""
    return (uuid.uuid5(NAMESPACE, address).hex * 2)[:64]


def iam_arn(place: Place, kind: str, name: str | None, path: str | None) -> str | None:
    """The ARN AWS gives a role, user, group or policy of this name and path."""
    if not name:
        return None
    path = path or "/"
    return f"arn:{place.partition}:iam::{place.account}:{kind}{path}{name}"


def node_of(res: Resource, attr: str) -> JNode:
    """Where to point for one attribute of a resource (the resource when absent)."""
    return res.attr(attr).where or res.node

"""World stage: world files and AWS CLI output -> `World`, with every problem.

Accepted shapes (DESIGN.md "World file", plus the extensions in README.md):
- a document is an inline JSON object or a path relative to the world file;
- a key policy may be `aws kms get-key-policy` output (`{"Policy": "<json>"}`);
- grants may be `aws kms list-grants` output (`{"Grants": [...]}`) or a list;
- an account may `import` `aws iam get-account-authorization-details` output.
"""

from __future__ import annotations

import json
import re
import types
from pathlib import Path

from kmsprove import validate
from kmsprove.arn import ACCOUNT_RE, parse_caller
from kmsprove.ast import Policy, PolicyKind
from kmsprove.catalog import aws_managed_key_policy
from kmsprove.errors import Diagnostic, InputError, error, suggest
from kmsprove.inputs.aws_cli import read_authorization_details
from kmsprove.inputs.documents import Reader, policy_from_value
from kmsprove.inputs.files import parse_file
from kmsprove.inputs.unique_ids import resolve_unique_ids
from kmsprove.inputs.unresolved import unsettled_warning
from kmsprove.syntax.json import parse_json
from kmsprove.syntax.tree import JArray, JNode, JNull, JObject, JString, kind_name
from kmsprove.world import Account, Bucket, Identity, Key, Unresolved, World

KEY_ARN_RE = re.compile(r"arn:aws[a-z-]*:kms:[a-z]{2}(-[a-z]+)+-\d:\d{12}:key/[A-Za-z0-9-]+")
WORLD_FIELDS = ("version", "keys", "accounts", "buckets", "vpc_endpoints", "unknowns")
KEY_FIELDS = (
    "arn",
    "policy",
    "grants",
    "manager",
    "state",
    "aliases",
    "aws_ram_policy",
    "key_spec",
    "key_usage",
    "origin",
    "multi_region",
    "multi_region_key_type",
    "tags",
)
ACCOUNT_FIELDS = (
    "complete",
    "organization",
    "management",
    "scps",
    "rcps",
    "principals",
    "enabled_regions",
    "import",
)
PRINCIPAL_FIELDS = ("policies", "boundary", "tags", "trust_policy", "groups", "unique_id")
BUCKET_FIELDS = ("arn", "account", "region", "policy", "kms_key", "bucket_key")
KEY_STATES = (
    "Enabled",
    "Disabled",
    "PendingDeletion",
    "PendingReplicaDeletion",
    "PendingImport",
    "Unavailable",
    "Creating",
    "Updating",
)


def load_world_json(doc: object, name: str = "<world>") -> World:
    """A world from a JSON-able value (tests, generated worlds); paths resolve from cwd."""
    world, diags = WorldLoader(Path(name)).load(json.dumps(doc, indent=1))
    errors = [d for d in diags if d.is_error]
    if errors or world is None:
        raise InputError(errors or diags)
    return world


class WorldLoader(Reader):
    """A world file, version 1 (DESIGN.md), and every document it references."""

    # -- the world -------------------------------------------------------

    def load(
        self, text: str | None = None, root: JNode | None = None
    ) -> tuple[World | None, list[Diagnostic]]:
        """Load the world file, or `text` (or its parsed `root`) as if it were that file."""
        if root is None:
            try:
                root = parse_file(self.path) if text is None else parse_json(text, str(self.path))
            except InputError as exc:
                return None, list(exc.diagnostics)
        if not isinstance(root, JObject):
            self.err(root, f"a world file must be a JSON object, not {kind_name(root)}")
            return None, self.diags
        self.unknown_fields(root, WORLD_FIELDS, "world")
        version = root.get("version")
        if version is None:
            self.err(root, "world file has no `version` (expected 1)")
        elif not (type(getattr(version, "value", None)) is int and version.value == 1):  # type: ignore[attr-defined]
            self.err(version, "unsupported world `version`: expected 1")
        keys = self.keys(root.get("keys"))
        accounts = self.accounts(root.get("accounts"))
        buckets = self.buckets(root.get("buckets"))
        endpoints = self.endpoints(root.get("vpc_endpoints"))
        world = World(
            keys=tuple(keys),
            accounts=types.MappingProxyType(accounts),
            buckets=tuple(buckets),
            vpc_endpoints=types.MappingProxyType(endpoints),
            file=str(self.path),
            unknowns=tuple(self.unknowns(root.get("unknowns"))),
        )
        world = resolve_unique_ids(world)
        self.diags.extend(validate.check_world(world))
        return world, self.diags

    def keys(self, node: JNode | None) -> list[Key]:
        if node is None:
            return []
        if not isinstance(node, JArray):
            self.err(node, f"`keys` must be an array, not {kind_name(node)}")
            return []
        out: list[Key] = []
        seen: dict[str, JNode] = {}
        for item in node.items:
            key = self.key(item)
            if key is None:
                continue
            if key.arn in seen:
                self.err(item, f"key `{key.arn}` appears twice")
            seen[key.arn] = item
            out.append(key)
        return out

    def key(self, node: JNode) -> Key | None:
        if not isinstance(node, JObject):
            self.err(node, f"a key must be an object, not {kind_name(node)}")
            return None
        self.unknown_fields(node, KEY_FIELDS, "key")
        arn = self.string(node.get("arn"), "arn")
        if node.get("arn") is None:
            self.err(node, "key has no `arn`")
        if arn is not None and not KEY_ARN_RE.fullmatch(arn):
            self.err(
                node.get("arn"), f"`{arn}` is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)"
            )
            arn = None
        manager = self.string(node.get("manager"), "manager") or "CUSTOMER"
        if manager not in ("CUSTOMER", "AWS"):
            self.err(node.get("manager"), f"`manager` must be `CUSTOMER` or `AWS`, not `{manager}`")
        policy_node = node.get("policy")
        policy = self.document(policy_node, PolicyKind.KEY_POLICY, "")
        aliases = self.string_list(node.get("aliases"), "aliases")
        if policy_node is None and manager == "AWS" and arn is not None:
            policy = self.managed_policy(arn, aliases, node)
        elif policy_node is None:
            self.err(node, "key has no `policy` (a key always has a key policy, R1.4)")
        state = self.string(node.get("state"), "state") or "Enabled"
        if state not in KEY_STATES:
            self.err(node.get("state"), f"unknown key state `{state}`" + suggest(state, KEY_STATES))
        for a_node, a in zip(getattr(node.get("aliases"), "items", ()), aliases, strict=False):
            if not a.startswith("alias/"):
                self.err(a_node, f"alias `{a}` must start with `alias/`")
        grants = self.grants(node.get("grants"), arn or "")
        if arn is None or policy is None:
            return None
        return Key(
            arn=arn,
            policy=policy,
            grants=tuple(grants),
            manager=manager,
            state=state,
            aliases=aliases,
            ram_policy=self.document(node.get("aws_ram_policy"), PolicyKind.KEY_POLICY, ""),
            key_spec=self.string(node.get("key_spec"), "key_spec") or "SYMMETRIC_DEFAULT",
            key_usage=self.string(node.get("key_usage"), "key_usage") or "ENCRYPT_DECRYPT",
            origin=self.string(node.get("origin"), "origin") or "AWS_KMS",
            multi_region=self.boolean(node.get("multi_region"), "multi_region", False),
            multi_region_key_type=self.string(
                node.get("multi_region_key_type"), "multi_region_key_type"
            ),
            tags=self.tags(node.get("tags")),
            pos=node.pos,
        )

    def managed_policy(self, arn: str, aliases: tuple[str, ...], node: JObject) -> Policy | None:
        """The fixed policy of an AWS managed key `alias/aws/SERVICE` (R7.5, specs/)."""
        template = aws_managed_key_policy(arn, aliases)
        if template is None:
            self.err(
                node, "an AWS managed key without `policy` needs its `alias/aws/SERVICE` alias"
            )
            return None
        name, doc = template
        return policy_from_value(
            doc, PolicyKind.KEY_POLICY, name, f"<aws managed policy of {name}>"
        )

    def accounts(self, node: JNode | None) -> dict[str, Account]:
        if node is None:
            return {}
        if not isinstance(node, JObject):
            self.err(
                node, f"`accounts` must be an object keyed by account id, not {kind_name(node)}"
            )
            return {}
        out = {}
        for m in node.members:
            if not ACCOUNT_RE.fullmatch(m.key):
                self.diags.append(error(m.key_pos, f"`{m.key}` is not a 12-digit account id"))
                continue
            acct = self.account(m.key, m.value)
            if acct is not None:
                out[m.key] = acct
        return out

    def account(self, acct_id: str, node: JNode) -> Account | None:
        if not isinstance(node, JObject):
            self.err(node, f"an account must be an object, not {kind_name(node)}")
            return None
        self.unknown_fields(node, ACCOUNT_FIELDS, "account")
        principals: dict[str, Identity] = {}
        imported = False
        if node.get("import") is not None:
            imp = node.get("import")
            if isinstance(imp, JString):
                loaded = self.read(imp)
                if loaded is not None:
                    principals.update(read_authorization_details(self, acct_id, loaded[0]))
                    imported = True
            else:
                self.err(imp, "`import` must be a path to get-account-authorization-details output")
        principals.update(self.principals(acct_id, node.get("principals")))
        org = self.string(node.get("organization"), "organization")
        if org is not None and not org.startswith("o-"):
            self.err(node.get("organization"), f"`{org}` is not an organization id (o-...)")
        regions = node.get("enabled_regions")
        return Account(
            id=acct_id,
            complete=self.boolean(node.get("complete"), "complete", imported),
            organization=org,
            management=self.boolean(node.get("management"), "management", False),
            scps=self.policy_list(node.get("scps"), PolicyKind.SCP, "scps"),
            rcps=self.policy_list(node.get("rcps"), PolicyKind.RCP, "rcps"),
            principals=types.MappingProxyType(principals),
            enabled_regions=None
            if regions is None
            else self.string_list(regions, "enabled_regions"),
        )

    def policy_list(self, node: JNode | None, kind: PolicyKind, what: str) -> tuple[Policy, ...]:
        if node is None or isinstance(node, JNull):
            return ()
        if not isinstance(node, JArray):
            self.err(node, f"`{what}` must be an array of documents, not {kind_name(node)}")
            return ()
        out = []
        for item in node.items:
            p = self.document(item, kind, "")
            if p is not None:
                out.append(p)
        return tuple(out)

    def principals(self, acct_id: str, node: JNode | None) -> dict[str, Identity]:
        if node is None:
            return {}
        if not isinstance(node, JObject):
            self.err(node, f"`principals` must be an object keyed by ARN, not {kind_name(node)}")
            return {}
        out = {}
        for m in node.members:
            caller = parse_caller(m.key)
            if caller.kind == "root" and caller.account == acct_id and isinstance(m.value, JObject):
                # the root user is in every account: its entry takes part in no decision
                self.unknown_fields(m.value, PRINCIPAL_FIELDS, "principal")
                self.diags.extend(validate.root_principal_problems(m.key, m.value))
                continue
            if caller.kind not in ("user", "role"):
                self.diags.append(
                    error(
                        m.key_pos,
                        f"`{m.key}` is not an IAM user or role ARN (sessions come from their role)",
                    )
                )
                continue
            if caller.account != acct_id:
                self.diags.append(error(m.key_pos, f"`{m.key}` is not in account {acct_id}"))
                continue
            v = m.value
            if not isinstance(v, JObject):
                self.err(v, f"a principal must be an object, not {kind_name(v)}")
                continue
            self.unknown_fields(v, PRINCIPAL_FIELDS, "principal")
            trust = v.get("trust_policy")
            if trust is not None and caller.kind != "role":
                self.err(trust, "only roles have a `trust_policy`")
            out[m.key] = Identity(
                arn=m.key,
                policies=self.policy_list(v.get("policies"), PolicyKind.IDENTITY, "policies"),
                boundary=self.document(v.get("boundary"), PolicyKind.IDENTITY, ""),
                tags=self.tags(v.get("tags")),
                trust_policy=self.document(trust, PolicyKind.TRUST, ""),
                groups=self.string_list(v.get("groups"), "groups"),
                unique_id=self.unique_id(v.get("unique_id"), caller.kind),
                pos=m.value.pos,
            )
        return out

    def buckets(self, node: JNode | None) -> list[Bucket]:
        if node is None:
            return []
        if not isinstance(node, JArray):
            self.err(node, f"`buckets` must be an array, not {kind_name(node)}")
            return []
        out = []
        for item in node.items:
            if not isinstance(item, JObject):
                self.err(item, f"a bucket must be an object, not {kind_name(item)}")
                continue
            self.unknown_fields(item, BUCKET_FIELDS, "bucket")
            arn = self.string(item.get("arn"), "arn")
            if arn is None or not arn.startswith("arn:aws:s3:::") or "/" in arn:
                self.err(
                    item.get("arn") or item, "a bucket needs `arn` of the form arn:aws:s3:::NAME"
                )
                continue
            account = self.string(item.get("account"), "account")
            if account is None or not ACCOUNT_RE.fullmatch(account):
                self.err(
                    item.get("account") or item, "a bucket needs its owner `account` (12 digits)"
                )
                continue
            kms_key = self.string(item.get("kms_key"), "kms_key")
            out.append(
                Bucket(
                    arn=arn,
                    account=account,
                    region=self.string(item.get("region"), "region") or "us-east-1",
                    policy=self.document(item.get("policy"), PolicyKind.BUCKET, ""),
                    kms_key=kms_key,
                    bucket_key=self.boolean(item.get("bucket_key"), "bucket_key", False),
                    pos=item.pos,
                )
            )
        return out

    def unknowns(self, node: JNode | None) -> list[Unresolved]:
        """`unknowns`: [{"reason": TEXT, "key": KEY-ARN (absent: every key)}], what the
        collector or a template reader could not settle."""
        if node is None:
            return []
        if not isinstance(node, JArray):
            self.err(node, f"`unknowns` must be an array, not {kind_name(node)}")
            return []
        out = []
        for item in node.items:
            if not isinstance(item, JObject):
                self.err(item, f"an `unknowns` entry must be an object, not {kind_name(item)}")
                continue
            self.unknown_fields(item, ("reason", "key"), "unknowns entry")
            reason = self.string(item.get("reason"), "reason")
            if not reason:
                self.err(item, "an `unknowns` entry needs its `reason`")
                continue
            key = self.string(item.get("key"), "key")
            if key is not None and not KEY_ARN_RE.fullmatch(key):
                self.err(item.get("key") or item, f"`key` must be a key ARN, not `{key}`")
                continue
            out.append(Unresolved(reason, key, item.pos))
            self.diags.append(unsettled_warning(out[-1]))
        return out

    def endpoints(self, node: JNode | None) -> dict[str, Policy]:
        if node is None:
            return {}
        if not isinstance(node, JObject):
            self.err(
                node,
                f"`vpc_endpoints` must be an object keyed by endpoint id, not {kind_name(node)}",
            )
            return {}
        out = {}
        for m in node.members:
            p = self.document(m.value, PolicyKind.VPCE, "")
            if p is not None:
                out[m.key] = p
        return out

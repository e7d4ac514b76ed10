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
import urllib.parse
from pathlib import Path

from kmsprove import validate
from kmsprove.arn import ACCOUNT_RE, key_arn_parts, parse_caller
from kmsprove.ast import Grant, Policy, PolicyKind
from kmsprove.catalog import s3_facts
from kmsprove.errors import Diagnostic, InputError, error, suggest
from kmsprove.syntax.json import (
    JArray,
    JBool,
    JNode,
    JNull,
    JObject,
    JString,
    kind_name,
    parse_file,
    parse_json,
)
from kmsprove.syntax.policy import build_grant, build_policy
from kmsprove.world import Account, Bucket, Identity, Key, World

KEY_ARN_RE = re.compile(r"arn:aws[a-z-]*:kms:[a-z]{2}(-[a-z]+)+-\d:\d{12}:key/[A-Za-z0-9-]+")
WORLD_FIELDS = ("version", "keys", "accounts", "buckets", "vpc_endpoints")
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
PRINCIPAL_FIELDS = ("policies", "boundary", "tags", "trust_policy", "groups")
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


def load_world(path: str | Path) -> World:
    """Read and validate a world file; raise `InputError` with every error."""
    world, _ = load_world_with_warnings(path)
    return world


def load_world_with_warnings(path: str | Path) -> tuple[World, list[Diagnostic]]:
    world, diags = WorldLoader(Path(path)).load()
    errors = [d for d in diags if d.is_error]
    if errors or world is None:
        raise InputError(errors or diags)
    return world, diags


def load_world_json(doc: object, name: str = "<world>") -> World:
    """A world from a JSON-able value (tests, generated worlds); paths resolve from cwd."""
    world, diags = WorldLoader(Path(name)).load(json.dumps(doc, indent=1))
    errors = [d for d in diags if d.is_error]
    if errors or world is None:
        raise InputError(errors or diags)
    return world


class WorldLoader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.base = path.parent
        self.diags: list[Diagnostic] = []

    # -- helpers ---------------------------------------------------------

    def err(self, node: JNode, msg: str) -> None:
        self.diags.append(error(node.pos, msg))

    def unknown_fields(self, node: JObject, allowed: tuple[str, ...], what: str) -> None:
        for m in node.members:
            if m.key not in allowed:
                self.diags.append(
                    error(m.key_pos, f"unknown {what} field `{m.key}`" + suggest(m.key, allowed))
                )

    def string(self, node: JNode | None, what: str) -> str | None:
        if node is None:
            return None
        if isinstance(node, JString):
            return node.value
        self.err(node, f"`{what}` must be a string, not {kind_name(node)}")
        return None

    def boolean(self, node: JNode | None, what: str, default: bool) -> bool:
        if node is None:
            return default
        if isinstance(node, JBool):
            return node.value
        self.err(node, f"`{what}` must be true or false, not {kind_name(node)}")
        return default

    def string_list(self, node: JNode | None, what: str) -> tuple[str, ...]:
        if node is None or isinstance(node, JNull):
            return ()
        if not isinstance(node, JArray):
            self.err(node, f"`{what}` must be an array of strings, not {kind_name(node)}")
            return ()
        out = []
        for item in node.items:
            s = self.string(item, what)
            if s is not None:
                out.append(s)
        return tuple(out)

    def tags(self, node: JNode | None) -> tuple[tuple[str, str], ...]:
        """`{"k": "v"}` or the AWS list shape `[{"Key": k, "Value": v}]`."""
        if node is None or isinstance(node, JNull):
            return ()
        out = []
        if isinstance(node, JObject):
            for m in node.members:
                v = self.string(m.value, f"tags.{m.key}")
                if v is not None:
                    out.append((m.key, v))
        elif isinstance(node, JArray):
            for item in node.items:
                if isinstance(item, JObject) and item.get("Key") is not None:
                    k = self.string(item.get("Key"), "Key")
                    v = self.string(item.get("Value"), "Value") or ""
                    if k is not None:
                        out.append((k, v))
                else:
                    self.err(item, 'a tag must be {"Key": ..., "Value": ...}')
        else:
            self.err(node, f"`tags` must be an object, not {kind_name(node)}")
        return tuple(out)

    def read(self, node: JString) -> JNode | None:
        """The JSON a path string names, relative to the world file."""
        target = self.base / node.value
        display = str(target) if Path(node.value).is_absolute() else str(self.base / node.value)
        if not target.is_file():
            why = "is a directory" if target.is_dir() else "no such file"
            self.err(node, f"cannot read `{node.value}`: {why}")
            return None
        try:
            return parse_file(target, display)
        except InputError as exc:
            self.diags.extend(exc.diagnostics)
            return None

    def document(self, node: JNode | None, kind: PolicyKind, name: str) -> Policy | None:
        if node is None or isinstance(node, JNull):
            return None
        if isinstance(node, JString):
            loaded = self.read(node)
            if loaded is None:
                return None
            node = loaded
            name = loaded.pos.file
        if (
            isinstance(node, JObject)
            and node.get("Policy") is not None
            and node.get("Statement") is None
        ):
            # `aws kms get-key-policy` output: the policy is a JSON string
            inner = node.get("Policy")
            if not isinstance(inner, JString):
                self.err(inner or node, "`Policy` must be a JSON string")
                return None
            try:
                node = parse_json(inner.value, f"{inner.pos.file}#Policy")
            except InputError as exc:
                self.diags.extend(exc.diagnostics)
                return None
        policy, diags = build_policy(node, kind, name or node.pos.file)
        self.diags.extend(diags)
        if policy is not None:
            self.diags.extend(validate.check_policy(policy))
        return policy

    # -- the world -------------------------------------------------------

    def load(self, text: str | None = None) -> tuple[World | None, list[Diagnostic]]:
        """Load the world file, or `text` as if it were that file."""
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
        )
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
            )  # type: ignore[arg-type]
            arn = None
        manager = self.string(node.get("manager"), "manager") or "CUSTOMER"
        if manager not in ("CUSTOMER", "AWS"):
            self.err(node.get("manager"), f"`manager` must be `CUSTOMER` or `AWS`, not `{manager}`")  # type: ignore[arg-type]
        policy_node = node.get("policy")
        policy = self.document(policy_node, PolicyKind.KEY_POLICY, "")
        aliases = self.string_list(node.get("aliases"), "aliases")
        if policy_node is None and manager == "AWS" and arn is not None:
            policy = self.managed_policy(arn, aliases, node)
        elif policy_node is None:
            self.err(node, "key has no `policy` (a key always has a key policy, R1.4)")
        state = self.string(node.get("state"), "state") or "Enabled"
        if state not in KEY_STATES:
            self.err(
                node.get("state"), f"unknown key state `{state}`" + suggest(state, KEY_STATES)
            )  # type: ignore[arg-type]
        for a_node, a in zip(getattr(node.get("aliases"), "items", ()), aliases, strict=False):
            if not a.startswith("alias/"):
                self.err(a_node, f"alias `{a}` must start with `alias/`")
        grants = self.grants(node.get("grants"), arn or "")
        if arn is None or policy is None:
            return None
        for g in grants:
            if g.key_id and g.key_id not in (arn, key_arn_parts(arn)[2]):  # type: ignore[index]
                self.diags.append(
                    error(
                        g.pos, f"grant `{g.grant_id}` is for key `{g.key_id}`, not this key `{arn}`"
                    )
                )
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
        services = [a.split("/", 2)[2] for a in aliases if a.startswith("alias/aws/")]
        if not services:
            self.err(
                node, "an AWS managed key without `policy` needs its `alias/aws/SERVICE` alias"
            )
            return None
        region, account, _ = key_arn_parts(arn)  # type: ignore[misc]
        service = s3_facts()["via_service_names"].get(services[0], services[0])
        text = json.dumps(s3_facts()["aws_managed_key_policy"])
        for name, value in (("ACCOUNT", account), ("REGION", region), ("SERVICE", service)):
            text = text.replace("${" + name + "}", value)
        policy, diags = build_policy(
            parse_json(text, f"<aws managed policy of alias/aws/{services[0]}>"),
            PolicyKind.KEY_POLICY,
            f"alias/aws/{services[0]}",
        )
        self.diags.extend(diags)
        return policy

    def grants(self, node: JNode | None, key_arn: str) -> list[Grant]:
        if node is None or isinstance(node, JNull):
            return []
        if isinstance(node, JString):
            loaded = self.read(node)
            if loaded is None:
                return []
            node = loaded
        if isinstance(node, JObject) and node.get("Grants") is not None:
            node = node.get("Grants")  # `aws kms list-grants` output
        if not isinstance(node, JArray):
            self.err(
                node, f"`grants` must be an array or list-grants output, not {kind_name(node)}"
            )  # type: ignore[arg-type]
            return []
        out = []
        for item in node.items:
            g = build_grant(item, self.diags, key_arn)
            if g is not None:
                out.append(g)
        return out

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
                    principals.update(self.authorization_details(acct_id, loaded))
                    imported = True
            else:
                self.err(imp, "`import` must be a path to get-account-authorization-details output")  # type: ignore[arg-type]
        principals.update(self.principals(acct_id, node.get("principals")))
        org = self.string(node.get("organization"), "organization")
        if org is not None and not org.startswith("o-"):
            self.err(node.get("organization"), f"`{org}` is not an organization id (o-...)")  # type: ignore[arg-type]
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

    # -- get-account-authorization-details ---------------------------------

    def authorization_details(self, acct_id: str, node: JNode) -> dict[str, Identity]:
        """Users, roles, groups and managed policies of one account (a complete account)."""
        if not isinstance(node, JObject):
            self.err(
                node, "expected `aws iam get-account-authorization-details` output (an object)"
            )
            return {}
        managed: dict[str, JNode] = {}
        for pol in _items(node.get("Policies")):
            arn = self.string(pol.get("Arn"), "Arn")  # type: ignore[union-attr]
            default = self.string(pol.get("DefaultVersionId"), "DefaultVersionId")  # type: ignore[union-attr]
            for ver in _items(pol.get("PolicyVersionList")):  # type: ignore[union-attr]
                is_default = ver.get("IsDefaultVersion")
                if (isinstance(is_default, JBool) and is_default.value) or (
                    self.string(ver.get("VersionId"), "VersionId") == default
                ):
                    doc = ver.get("Document")
                    if arn and doc is not None:
                        managed[arn] = doc
        groups: dict[str, tuple[list[Policy], list[str]]] = {}
        for g in _items(node.get("GroupDetailList")):
            name = self.string(g.get("GroupName"), "GroupName") or ""
            groups[name] = self.attached(g, "GroupPolicyList", managed)
        out: dict[str, Identity] = {}
        for kind, list_name, inline in (
            ("user", "UserDetailList", "UserPolicyList"),
            ("role", "RoleDetailList", "RolePolicyList"),
        ):
            for item in _items(node.get(list_name)):
                arn = self.string(item.get("Arn"), "Arn")
                if arn is None:
                    continue
                if parse_caller(arn).account != acct_id:
                    self.err(item, f"`{arn}` is not in account {acct_id}")
                    continue
                policies, unknown = self.attached(item, inline, managed)
                group_names = [
                    s.value for s in _items_any(item.get("GroupList")) if isinstance(s, JString)
                ]
                for gname in group_names:
                    gp, gu = groups.get(gname, ([], [f"group {gname}"]))
                    policies = policies + gp
                    unknown = unknown + gu
                boundary = None
                pb = item.get("PermissionsBoundary")
                if isinstance(pb, JObject):
                    pb_arn = self.string(pb.get("PermissionsBoundaryArn"), "PermissionsBoundaryArn")
                    if pb_arn in managed:
                        boundary = self.embedded(managed[pb_arn], PolicyKind.IDENTITY, pb_arn or "")
                    elif pb_arn:
                        unknown.append(pb_arn)
                trust = None
                if kind == "role" and item.get("AssumeRolePolicyDocument") is not None:
                    trust = self.embedded(
                        item.get("AssumeRolePolicyDocument"), PolicyKind.TRUST, f"{arn} trust"
                    )  # type: ignore[arg-type]
                out[arn] = Identity(
                    arn=arn,
                    policies=tuple(policies),
                    boundary=boundary,
                    tags=self.tags(item.get("Tags")),
                    trust_policy=trust,
                    groups=tuple(group_names),
                    unknown_documents=tuple(unknown),
                    pos=item.pos,
                )
        return out

    def attached(
        self, item: JObject, inline_list: str, managed: dict[str, JNode]
    ) -> tuple[list[Policy], list[str]]:
        policies: list[Policy] = []
        unknown: list[str] = []
        for ip in _items(item.get(inline_list)):
            name = self.string(ip.get("PolicyName"), "PolicyName") or ""
            doc = ip.get("PolicyDocument")
            if doc is not None:
                p = self.embedded(doc, PolicyKind.IDENTITY, name)
                if p is not None:
                    policies.append(p)
        for ap in _items(item.get("AttachedManagedPolicies")):
            arn = self.string(ap.get("PolicyArn"), "PolicyArn") or ""
            if arn in managed:
                p = self.embedded(managed[arn], PolicyKind.IDENTITY, arn)
                if p is not None:
                    policies.append(p)
            else:
                unknown.append(arn)
        return policies, unknown

    def embedded(self, node: JNode, kind: PolicyKind, name: str) -> Policy | None:
        """A policy document that may be URL-encoded JSON text (the raw IAM API)."""
        if isinstance(node, JString):
            try:
                node = parse_json(urllib.parse.unquote(node.value), f"{node.pos.file}#{name}")
            except InputError as exc:
                self.diags.extend(exc.diagnostics)
                return None
        policy, diags = build_policy(node, kind, name)
        self.diags.extend(diags)
        if policy is not None:
            self.diags.extend(validate.check_policy(policy))
        return policy


def _items(node: JNode | None) -> list[JObject]:
    return [i for i in _items_any(node) if isinstance(i, JObject)]


def _items_any(node: JNode | None) -> tuple[JNode, ...]:
    return node.items if isinstance(node, JArray) else ()

"""Physical names: what `Ref` and `Fn::GetAtt` of a template's resources return, built
as AWS builds them (`Physical`).

- A KMS key's id is AWS KMS's to assign: kmsprove uses a UUID derived from the logical
  id (`mrk-` and 32 hex digits for a multi-Region key), or the id `--physical-id
  LOGICAL=ID` gives (a key id or a key ARN). `Ref` is the id, `Arn` the key ARN.
- A replica key has its primary's id (from `PrimaryKeyArn`) in this Region.
- An alias's `Ref` is its `AliasName`.
- A role, user or group's `Ref` is its name, `Arn` `arn:PARTITION:iam::ACCOUNT:role/PATH/NAME`
  (`user/`, `group/`); a managed policy's `Ref` is its ARN (`policy/`); a bucket's `Ref`
  its name, `Arn` `arn:PARTITION:s3:::NAME`. When the template gives no name,
  CloudFormation generates `STACK-LOGICALID-SUFFIX`: kmsprove uses the placeholder stack
  name and a suffix derived from the logical id (lowercase for buckets), and says so.
- Anything else (an attribute or a resource type kmsprove does not model) is unresolved.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Callable

from kmsprove.arn import KEY_ID_RE, parse_arn
from kmsprove.errors import Diagnostic, warning
from kmsprove.inputs.cloudformation.functions import text_of
from kmsprove.inputs.cloudformation.intrinsics import Captured, Resolver
from kmsprove.inputs.cloudformation.template import NAMESPACE, STACK_NAME, Resource, Template
from kmsprove.inputs.unresolved import MARK
from kmsprove.syntax.tree import JNode, JString

KEYS = ("AWS::KMS::Key", "AWS::KMS::ReplicaKey")
IAM = {  # type -> (name property, ARN kind, name length limit)
    "AWS::IAM::Role": ("RoleName", "role", 64),
    "AWS::IAM::User": ("UserName", "user", 64),
    "AWS::IAM::Group": ("GroupName", "group", 128),
    "AWS::IAM::ManagedPolicy": ("ManagedPolicyName", "policy", 128),
}
# every attribute of the types kmsprove reads, and the ones it models
ATTRIBUTES = {
    "AWS::KMS::Key": ("Arn", "KeyId"),
    "AWS::KMS::ReplicaKey": ("Arn", "KeyId"),
    "AWS::KMS::Alias": (),
    "AWS::IAM::Role": ("Arn", "RoleId"),
    "AWS::IAM::User": ("Arn",),
    "AWS::IAM::Group": ("Arn",),
}
MODELLED = {
    "AWS::IAM::Role": ("Arn",),
    "AWS::IAM::ManagedPolicy": ("PolicyArn",),
    "AWS::S3::Bucket": ("Arn", "DomainName", "RegionalDomainName", "DualStackDomainName"),
}


def generated_name(logical: str, limit: int, lower: bool = False) -> str:
    """CloudFormation's `STACK-LOGICALID-SUFFIX`, with a suffix derived from the id."""
    digest = hashlib.sha256(f"{STACK_NAME}/{logical}".encode()).digest()
    suffix = base64.b32encode(digest).decode()[:12]
    name = f"{f'{STACK_NAME}-{logical}'[: limit - 13]}-{suffix}"
    return name.lower() if lower else name


def generated_key_id(logical: str, multi_region: bool) -> str:
    made = uuid.uuid5(NAMESPACE, f"key/{logical}")
    return f"mrk-{made.hex}" if multi_region else str(made)


class Physical:
    """The physical names of one template's resources, each decided once."""

    def __init__(self, tpl: Template, resolver: Resolver) -> None:
        self.tpl = tpl
        self.r = resolver
        self.memo: dict[tuple[str, str], tuple[str, Captured]] = {}
        self.busy: set[tuple[str, str]] = set()
        self.notes: dict[str, Diagnostic] = {}  # logical id -> what kmsprove made up for it
        self.given = dict(tpl.options.physical_ids)
        resolver.resources = self.value

    # -- Ref and GetAtt -----------------------------------------------------

    def value(self, logical: str, attribute: str | None, node: JNode, key: str | None) -> JNode:
        res = self.tpl.resources[logical]
        what = f"`Ref {logical}`" if attribute is None else f"`Fn::GetAtt {logical}.{attribute}`"
        if self.r.exists(res, key) is False:
            return self.r.fail(
                node, f"{what}: the template does not create `{logical}` (its condition is false)"
            )
        known = ATTRIBUTES.get(res.type)
        if attribute is not None and known is not None and attribute not in known:
            return self.r.fail(node, f"{what}: {res.type} has no attribute `{attribute}`")
        out = self.lookup(res, attribute, key)
        if out is None:
            why = (
                f"kmsprove does not model {res.type}"
                if res.type not in (*KEYS, *IAM, *ATTRIBUTES, *MODELLED)
                else "kmsprove does not model this value"
            )
            return self.r.unknown(what, node, key, why)
        return JString(node.src, node.offset, out)

    def lookup(self, res: Resource, attribute: str | None, key: str | None) -> str | None:
        t, a = res.type, attribute
        if t in KEYS:
            if a in (None, "KeyId"):
                return self.key_id(res, key)
            return self.key_arn(res, key) if a == "Arn" else None
        if t == "AWS::KMS::Alias" and a is None:
            return self.name(res, key)
        if t in IAM:
            if t == "AWS::IAM::ManagedPolicy":
                return self.iam_arn(res, key) if a in (None, "PolicyArn") else None
            if a is None:
                return self.name(res, key)
            return self.iam_arn(res, key) if a == "Arn" else None
        if t == "AWS::S3::Bucket":
            name = self.name(res, key)
            region, suffix = self.tpl.region, self.tpl.url_suffix
            return {
                None: name,
                "Arn": f"arn:{self.tpl.partition}:s3:::{name}",
                "DomainName": f"{name}.s3.{suffix}",
                "RegionalDomainName": f"{name}.s3.{region}.{suffix}",
                "DualStackDomainName": f"{name}.s3.dualstack.{region}.{suffix}",
            }.get(a)
        return None

    # -- names, decided once --------------------------------------------------

    def once(self, res: Resource, what: str, key: str | None, make: Callable[[], str]) -> str:
        """`make()` the first time (its unknowns recorded under each asker's key)."""
        slot = (res.logical, what)
        if slot in self.memo:
            value, found = self.memo[slot]
            self.r.replay(found, key)
            return value
        if slot in self.busy:
            self.r.fail(res.node, f"the {what} of `{res.logical}` depends on itself")
            return MARK
        self.busy.add(slot)
        with self.r.capture(defer=True) as found:
            value = make()
        self.busy.discard(slot)
        self.memo[slot] = (value, found)
        self.r.replay(found, key)
        return value

    def prop(self, res: Resource, name: str) -> JNode | None:
        node = res.properties.get(name) if res.properties is not None else None
        return None if node is None else self.r.resolve(node, None)

    def key_id(self, res: Resource, key: str | None) -> str:
        return self.once(res, "key id", key, lambda: self._key_id(res))

    def _key_id(self, res: Resource) -> str:
        given = self.given.get(res.logical)
        if given is not None:
            arn = parse_arn(given)
            return arn.resource.removeprefix("key/") if arn is not None else given
        if res.type == "AWS::KMS::ReplicaKey":
            primary = self.prop(res, "PrimaryKeyArn")
            text = text_of(primary) if primary is not None else None
            found = KEY_ID_RE.search(text or "")
            if text and MARK not in text and found and found.group(0).startswith("mrk-"):
                return found.group(0)
            made = generated_key_id(res.logical, True)
            self.note(
                res,
                f"replica key `{res.logical}`: its primary's key id is not known here; kmsprove uses `{made}`",
            )
            return made
        flag = self.prop(res, "MultiRegion")
        multi = flag is not None and (text_of(flag) or "").lower() == "true"
        made = generated_key_id(res.logical, multi)
        self.note(
            res,
            f"key `{res.logical}`: AWS KMS assigns its key id; kmsprove uses `{made}` "
            f"(`{self.arn_of(res, made)}`): query it by that ARN or by an alias, or give "
            f"--physical-id {res.logical}=KEY_ID for the deployed key",
        )
        return made

    def arn_of(self, res: Resource, key_id: str) -> str:
        given = parse_arn(self.given.get(res.logical, ""))
        if given is not None:
            return str(given)
        t = self.tpl
        return f"arn:{t.partition}:kms:{t.region}:{t.account}:key/{key_id}"

    def key_arn(self, res: Resource, key: str | None) -> str:
        return self.arn_of(res, self.key_id(res, key))

    def name(self, res: Resource, key: str | None) -> str:
        return self.once(res, "name", key, lambda: self._name(res))

    def _name(self, res: Resource) -> str:
        prop, _, limit = IAM.get(res.type, ("BucketName", "", 63))
        if res.type == "AWS::KMS::Alias":
            prop = "AliasName"
        node = self.prop(res, prop)
        if node is not None:
            text = self.r.text(node, res.node, f"`{prop}`")
            return MARK if text is None else text
        if res.logical in self.given:
            return self.given[res.logical]
        if res.type == "AWS::KMS::Alias":
            self.r.fail(res.node, f"alias `{res.logical}` has no `AliasName`")
            return MARK
        made = generated_name(res.logical, limit, lower=res.type == "AWS::S3::Bucket")
        self.r.stack_name_used = True
        self.note(
            res,
            f"`{res.logical}` has no `{prop}`: CloudFormation generates one; kmsprove "
            f"names it `{made}` (give --physical-id {res.logical}=NAME for the deployed one)",
        )
        return made

    def path(self, res: Resource) -> str:
        node = self.prop(res, "Path")
        text = (text_of(node) if node is not None else None) or "/"
        if not (text.startswith("/") and text.endswith("/")):
            self.r.fail(res.node, f"`Path` of `{res.logical}` must begin and end with `/`")
            return "/"
        return text

    def iam_arn(self, res: Resource, key: str | None) -> str:
        kind = IAM[res.type][1]
        name = self.name(res, key)
        path = self.once(res, "path", key, lambda: self.path(res))
        return f"arn:{self.tpl.partition}:iam::{self.tpl.account}:{kind}{path}{name}"

    def note(self, res: Resource, message: str) -> None:
        self.notes.setdefault(res.logical, warning(res.key_pos, message))

"""Report stage: `World` -> a version-1 world-file document (a JSON-able dict), the
inverse of `kmsprove.inputs.world_file`.

`policy_document` writes a `Policy` as IAM JSON, `grant_entry` a `Grant` as one
`aws kms list-grants` entry, and `world_document` a whole world with every document
inline, so the result needs no file beside it. Reading the result back
(`load_world_json`) gives an equal `World`, but for what the format cannot carry:
a policy's `name` (the reader names an inline document after the world file) and
identities with `unknown_documents` (see `world_document`).

Fields equal to the reader's defaults are left out and maps whose order means
nothing (accounts, principals, VPC endpoints) are sorted, so the output is short and
the same world always gives the same document.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from kmsprove.answer import Answer
from kmsprove.ast import Condition, Grant, Policy, Principal, Statement
from kmsprove.catalog import aws_managed_key_policy
from kmsprove.request import Request
from kmsprove.world import Account, Bucket, Identity, Key, World

# The reader's defaults (`inputs.world_file.WorldLoader` and the `world` dataclasses):
# a field holding one of these is left out of the document.
DEFAULT_MANAGER = "CUSTOMER"
DEFAULT_STATE = "Enabled"
DEFAULT_KEY_SPEC = "SYMMETRIC_DEFAULT"
DEFAULT_KEY_USAGE = "ENCRYPT_DECRYPT"
DEFAULT_ORIGIN = "AWS_KMS"
DEFAULT_BUCKET_REGION = "us-east-1"


# --------------------------------------------------------------------------
# policies


def policy_document(policy: Policy) -> dict[str, Any]:
    """The IAM JSON document of `policy`: Version and Id when set, then every statement
    in order. One value is a plain string and several a list, as AWS prints them."""
    doc: dict[str, Any] = {}
    if policy.version is not None:  # None: the document had no Version (read as 2008-10-17)
        doc["Version"] = policy.version
    if policy.id is not None:
        doc["Id"] = policy.id
    doc["Statement"] = [_statement(s) for s in policy.statements]
    return doc


def _statement(st: Statement) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if st.sid is not None:
        out["Sid"] = st.sid
    out["Effect"] = st.effect.value
    for element, principals in (("Principal", st.principal), ("NotPrincipal", st.not_principal)):
        if principals is not None:
            out[element] = _principals(principals)
    for element, values in (
        ("Action", st.action),
        ("NotAction", st.not_action),
        ("Resource", st.resource),
        ("NotResource", st.not_resource),
    ):
        if values is not None:
            out[element] = _one_or_many(values)
    if st.conditions:
        out["Condition"] = _conditions(st.conditions)
    return out


def _principals(principals: Sequence[Principal]) -> str | dict[str, str | list[str]]:
    """`"*"` for the bare wildcard, else the map form `{"AWS": ..., "Service": ...}`."""
    if len(principals) == 1 and principals[0].kind == "*":
        return "*"
    by_kind: dict[str, list[str]] = {}
    for p in principals:
        # the builder makes kind `*` only from a bare `"*"`, alone; beside other entries
        # it can only be a hand-built value, and `{"AWS": "*"}` means the same (R2.8)
        kind = "AWS" if p.kind == "*" else p.kind
        by_kind.setdefault(kind, []).append(p.value)
    return {kind: _one_or_many(values) for kind, values in by_kind.items()}


def _conditions(conditions: Iterable[Condition]) -> dict[str, dict[str, str | list[str]]]:
    """`{operator: {key: values}}`, operators and keys in the order they were written
    (the builder reads them in that order, and duplicate JSON members are errors)."""
    out: dict[str, dict[str, str | list[str]]] = {}
    for c in conditions:
        out.setdefault(c.operator, {})[c.key] = _one_or_many(c.values)
    return out


def _one_or_many(values: Sequence[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else list(values)


# --------------------------------------------------------------------------
# grants


def grant_entry(grant: Grant) -> dict[str, Any]:
    """`grant` as one `aws kms list-grants` entry, with only the fields that are set."""
    out: dict[str, Any] = {}
    if grant.grant_id:  # "" is what the builder stores for a missing GrantId
        out["GrantId"] = grant.grant_id
    out["KeyId"] = grant.key_id
    if grant.name:
        out["Name"] = grant.name
    principals = (
        ("GranteePrincipal", grant.grantee),
        ("GranteeServicePrincipal", grant.grantee_service),
        ("RetiringPrincipal", grant.retiring),
        ("RetiringServicePrincipal", grant.retiring_service),
    )
    out.update({field: value for field, value in principals if value is not None})
    if grant.issuing_account is not None:
        # ListGrants prints the account principal; the builder keeps its account id
        out["IssuingAccount"] = f"arn:aws:iam::{grant.issuing_account}:root"
    out["Operations"] = list(grant.operations)
    constraints: dict[str, Any] = {}
    # an empty context map is a constraint still (it is not None): keep it
    if grant.ec_subset is not None:
        constraints["EncryptionContextSubset"] = dict(grant.ec_subset)
    if grant.ec_equals is not None:
        constraints["EncryptionContextEquals"] = dict(grant.ec_equals)
    if grant.source_arn is not None:
        constraints["SourceArn"] = grant.source_arn
    if constraints:
        out["Constraints"] = constraints
    return out


# --------------------------------------------------------------------------
# the world


def world_document(world: World, keep_partial: bool = False) -> dict[str, Any]:
    """`world` as a version-1 world file, every document inline.

    An identity with `unknown_documents` (managed policies or groups an imported
    `get-account-authorization-details` named but did not supply) is left out: the
    world file has no way to say "this principal has documents we never saw", and
    writing it without them would claim it has none. Nothing here reports the
    omission; the caller decides whether to refuse, warn or go on. With
    `keep_partial` such an identity is written with the documents it has (a saved
    witness: the evaluator decided it on those alone).
    """
    doc: dict[str, Any] = {"version": 1}
    if world.keys:
        doc["keys"] = [_key(k) for k in world.keys]
    if world.accounts:
        doc["accounts"] = {
            acct_id: _account(world.accounts[acct_id], keep_partial)
            for acct_id in sorted(world.accounts)
        }
    if world.buckets:
        doc["buckets"] = [_bucket(b) for b in world.buckets]
    if world.vpc_endpoints:
        doc["vpc_endpoints"] = {
            vpce: policy_document(world.vpc_endpoints[vpce]) for vpce in sorted(world.vpc_endpoints)
        }
    if world.unknowns:
        doc["unknowns"] = [
            {"reason": u.reason, **({"key": u.key} if u.key else {})} for u in world.unknowns
        ]
    return doc


def _key(key: Key) -> dict[str, Any]:
    out: dict[str, Any] = {"arn": key.arn}
    # the reader rebuilds an AWS managed key's fixed policy itself (R7.5); leaving it
    # out keeps the document short and the rebuilt policy keeps its managed name
    if not (key.manager == "AWS" and policy_document(key.policy) == _managed_policy(key)):
        out["policy"] = policy_document(key.policy)
    if key.grants:
        out["grants"] = [grant_entry(g) for g in key.grants]
    if key.manager != DEFAULT_MANAGER:
        out["manager"] = key.manager
    if key.state != DEFAULT_STATE:
        out["state"] = key.state
    if key.aliases:
        out["aliases"] = list(key.aliases)
    if key.ram_policy is not None:
        out["aws_ram_policy"] = policy_document(key.ram_policy)
    properties = (
        ("key_spec", key.key_spec, DEFAULT_KEY_SPEC),
        ("key_usage", key.key_usage, DEFAULT_KEY_USAGE),
        ("origin", key.origin, DEFAULT_ORIGIN),
    )
    out.update({field: value for field, value, default in properties if value != default})
    if key.multi_region:
        out["multi_region"] = True
    if key.multi_region_key_type is not None:
        out["multi_region_key_type"] = key.multi_region_key_type
    if key.tags:
        out["tags"] = _tags(key.tags)
    return out


def _managed_policy(key: Key) -> dict[str, Any] | None:
    """The document the reader gives an AWS managed key that has no `policy`."""
    template = aws_managed_key_policy(key.arn, key.aliases)
    return None if template is None else dict(template[1])


def _account(acct: Account, keep_partial: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    # never written as `import`, so the reader's default is false (open) here
    if acct.complete:
        out["complete"] = True
    if acct.organization is not None:
        out["organization"] = acct.organization
    if acct.management:
        out["management"] = True
    if acct.scps:
        out["scps"] = [policy_document(p) for p in acct.scps]
    if acct.rcps:
        out["rcps"] = [policy_document(p) for p in acct.rcps]
    principals = {
        arn: _identity(acct.principals[arn])
        for arn in sorted(acct.principals)
        if keep_partial or not acct.principals[arn].unknown_documents
    }
    if principals:
        out["principals"] = principals
    # an empty tuple (no Region enabled) differs from None (every Region): keep it
    if acct.enabled_regions is not None:
        out["enabled_regions"] = list(acct.enabled_regions)
    return out


def _identity(ident: Identity) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if ident.policies:
        out["policies"] = [policy_document(p) for p in ident.policies]
    if ident.boundary is not None:
        out["boundary"] = policy_document(ident.boundary)
    if ident.tags:
        out["tags"] = _tags(ident.tags)
    if ident.trust_policy is not None:
        out["trust_policy"] = policy_document(ident.trust_policy)
    if ident.groups:
        out["groups"] = list(ident.groups)
    if ident.unique_id is not None:
        out["unique_id"] = ident.unique_id
    return out


def _bucket(bucket: Bucket) -> dict[str, Any]:
    out: dict[str, Any] = {"arn": bucket.arn, "account": bucket.account}
    if bucket.region != DEFAULT_BUCKET_REGION:
        out["region"] = bucket.region
    if bucket.policy is not None:
        out["policy"] = policy_document(bucket.policy)
    if bucket.kms_key is not None:
        out["kms_key"] = bucket.kms_key
    if bucket.bucket_key:
        out["bucket_key"] = True
    return out


def _tags(tags: Sequence[tuple[str, str]]) -> dict[str, str] | list[dict[str, str]]:
    """`{k: v}`; the AWS list shape `[{"Key": k, "Value": v}]` only when a key repeats
    (tags read from that shape may), since an object cannot hold a key twice."""
    if len({k for k, _ in tags}) == len(tags):
        return dict(tags)
    return [{"Key": k, "Value": v} for k, v in tags]


def request_document(req: Request) -> dict[str, Any]:
    """`req` as an explain request file (README, "explain"), all of its context."""
    doc: dict[str, Any] = {"principal": req.principal, "action": req.action}
    if req.key:
        doc["key"] = req.key
    if req.resource:
        doc["resource"] = req.resource
    doc["context"] = req.context.as_json()
    for name in ("grant_id", "via_vpce", "key_id_as_sent", "federated_from"):
        value = getattr(req, name)
        if value:
            doc[name] = value
    if req.session_policy is not None:
        doc["session_policy"] = policy_document(req.session_policy)
    if req.new_policy is not None:
        doc["api_params"] = {"Policy": policy_document(req.new_policy)}
    return doc


def witness_files(answer: Answer) -> dict[str, str] | None:
    """`world.json` and `request.json` that reproduce a "yes" (the world it was checked
    in, the request as its caller sends it), as texts; None for any other answer."""
    req = answer.shown or answer.counterexample
    if answer.checked_world is None or req is None:
        return None
    world = world_document(answer.checked_world, keep_partial=True)
    return {
        "world.json": json.dumps(world, indent=2) + "\n",
        "request.json": json.dumps(request_document(req), indent=2) + "\n",
    }

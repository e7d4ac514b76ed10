"""The world file (DESIGN.md "World file", version 1) from what the units found: keys
with their aliases, accounts with their IAM import, organization, SCPs and RCPs,
buckets with their default key resolved to a key ARN, VPC endpoint policies, and an
`unknowns` entry for every refusal that may change an answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kmsprove.collect.found import unknown_entry


@dataclass
class AccountFound:
    """The records of one account's units."""

    id: str
    regions: list[str]
    iam: dict[str, Any] | None = None
    kms: dict[str, dict[str, Any]] = field(default_factory=dict)  # Region -> listing
    keys: list[dict[str, Any]] = field(default_factory=list)
    endpoints: list[dict[str, Any]] = field(default_factory=list)
    buckets: list[dict[str, Any]] = field(default_factory=list)
    assume: dict[str, Any] | None = None  # AssumeRole (`--org`, member accounts)
    listings: list[dict[str, Any]] = field(default_factory=list)  # Regions, buckets


@dataclass
class Found:
    partition: str
    all_regions: bool
    org: dict[str, Any]
    accounts: list[AccountFound]

    def records(self) -> list[dict[str, Any]]:
        """Every unit's record, in collection order."""
        out = [self.org]
        for a in self.accounts:
            out += [r for r in (a.assume, a.iam) if r is not None]
            out += [*a.listings, *a.kms.values(), *a.keys, *a.endpoints, *a.buckets]
        return out

    def refused(self) -> list[dict[str, Any]]:
        return [r for rec in self.records() for r in rec.get("refused", [])]


def world_document(found: Found) -> dict[str, Any]:
    aliases = _aliases(found)
    keys = []
    for acct in found.accounts:
        for rec in acct.keys:
            if "key" not in rec:
                continue
            entry = dict(rec["key"])
            key_id = entry["arn"].split("/", 1)[1]
            region = entry["arn"].split(":")[3]
            names = acct.kms.get(region, {}).get("aliases", {}).get(key_id, [])
            if names:
                entry["aliases"] = names
            keys.append(entry)
    buckets, bucket_keys = _buckets(found, aliases)
    doc: dict[str, Any] = {
        "version": 1,
        "keys": sorted(keys, key=lambda k: k["arn"]),
        "accounts": {a.id: _account(found, a) for a in sorted(found.accounts, key=lambda a: a.id)},
        "buckets": buckets,
    }
    endpoints = {
        k: v
        for acct in found.accounts
        for rec in acct.endpoints
        for k, v in rec["endpoints"].items()
    }
    if endpoints:
        doc["vpc_endpoints"] = dict(sorted(endpoints.items()))
    unknowns = _unknowns(found, bucket_keys)
    if unknowns:
        doc["unknowns"] = unknowns
    return doc


def _account(found: Found, acct: AccountFound) -> dict[str, Any]:
    out: dict[str, Any] = {"complete": bool(acct.iam and acct.iam.get("complete"))}
    if acct.iam and acct.iam.get("import"):
        out["import"] = acct.iam["import"]
    org = found.org
    if org.get("organization"):
        out["organization"] = org["organization"]
        if org.get("management") == acct.id:
            out["management"] = True
    listed = org.get("accounts", {}).get(acct.id, {})
    for kind in ("scps", "rcps"):
        if listed.get(kind):
            out[kind] = listed[kind]
    if found.all_regions:
        out["enabled_regions"] = acct.regions
    return out


def _aliases(found: Found) -> dict[tuple[str, str, str], str]:
    """(account, Region, alias name) -> key ARN."""
    out = {}
    for acct in found.accounts:
        for region, rec in acct.kms.items():
            for key_id, names in rec.get("aliases", {}).items():
                arn = f"arn:{found.partition}:kms:{region}:{acct.id}:key/{key_id}"
                for name in names:
                    out[(acct.id, region, name)] = arn
    return out


def resolve_key(
    ref: str, account: str, region: str, partition: str, aliases: dict[tuple[str, str, str], str]
) -> str:
    """A bucket's KMSMasterKeyID (key id, key ARN, alias name or alias ARN) as a key ARN
    when the world can tell (an alias of an account it did not read stays an alias)."""
    if ref.startswith("arn:") and ":key/" in ref:
        return ref
    if ref.startswith("arn:") and ":alias/" in ref:
        parts = ref.split(":", 5)
        return aliases.get((parts[4], parts[3], parts[5]), ref)
    if ref.startswith("alias/"):
        return aliases.get((account, region, ref), f"arn:{partition}:kms:{region}:{account}:{ref}")
    return f"arn:{partition}:kms:{region}:{account}:key/{ref}"


def _buckets(
    found: Found, aliases: dict[tuple[str, str, str], str]
) -> tuple[list[dict[str, Any]], dict[str, str | None]]:
    out = []
    keys: dict[str, str | None] = {}  # bucket ARN -> its key ARN (None: not a key ARN)
    for acct in found.accounts:
        for rec in acct.buckets:
            if "bucket" not in rec:
                continue
            entry = dict(rec["bucket"])
            ref = entry.pop("kms_key_id", None)
            if ref is not None:
                entry["kms_key"] = resolve_key(
                    ref, entry["account"], entry["region"], found.partition, aliases
                )
            keys[entry["arn"]] = (
                entry.get("kms_key") if ":key/" in entry.get("kms_key", "") else None
            )
            out.append(entry)
    return sorted(out, key=lambda b: b["arn"]), keys


def _unknowns(found: Found, bucket_keys: dict[str, str | None]) -> list[dict[str, Any]]:
    entries = []
    for acct in found.accounts:
        for rec in acct.buckets:
            arn = rec.get("bucket", {}).get("arn")
            for r in rec.get("refused", []):
                if r["hedge"] and arn is not None:
                    r["key"] = bucket_keys.get(arn)  # hedges the bucket's key (or every key)
    entries += [unknown_entry(r) for r in found.refused() if r["hedge"]]
    for acct_id, listed in sorted(found.org.get("accounts", {}).items()):
        if listed.get("unsettled") and acct_id in {a.id for a in found.accounts}:
            entries.append({"reason": listed["unsettled"]})
    unique = {(e.get("key", ""), e["reason"]): e for e in entries}
    return [unique[k] for k in sorted(unique)]

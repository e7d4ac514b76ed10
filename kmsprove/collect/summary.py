"""What a collection read and what AWS refused: `Summary` (text for people, JSON for
programs), and the exit status: 0 everything read, 3 something refused (its answers
are unknown, or it is missing from the world), 2 the collected world does not load.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kmsprove.collect.assemble import Found
from kmsprove.collect.store import Store


@dataclass(frozen=True)
class Summary:
    world: str
    organization: str | None
    accounts: tuple[tuple[str, bool], ...]  # (id, complete)
    regions: tuple[str, ...]
    counts: tuple[tuple[str, int], ...]  # what was read, by kind
    refused: tuple[dict[str, Any], ...]
    notes: tuple[str, ...]
    files: tuple[tuple[str, int], ...]  # written, unchanged, removed
    resumed: int  # units a `--resume` did not do again
    problems: tuple[str, ...]  # why the collected world does not load

    @property
    def exit_code(self) -> int:
        if self.problems:
            return 2
        return 3 if self.refused else 0


def summarize(
    world: Path,
    found: Found,
    doc: dict[str, Any],
    store: Store,
    reused: list[str],
    problems: list[str],
) -> Summary:
    keys = doc["keys"]
    recs = [k for a in found.accounts for k in a.keys]
    org = found.org
    counts = {  # singular names: `_count` says them in the plural
        "key": len(keys),
        "AWS managed key": sum(k.get("manager") == "AWS" for k in keys),
        "grant": sum(int(r.get("grants", 0)) for r in recs),
        "IAM user or role": sum(int((a.iam or {}).get("principals", 0)) for a in found.accounts),
        "bucket": len(doc["buckets"]),
        "bucket with SSE-KMS": sum("kms_key" in b for b in doc["buckets"]),
        "KMS VPC endpoint": len(doc.get("vpc_endpoints", {})),
        "SCP": int(org.get("policies", {}).get("scps", 0)),
        "RCP": int(org.get("policies", {}).get("rcps", 0)),
    }
    notes = []
    member = org.get("management") != found.accounts[0].id
    if org.get("organization") and "accounts" not in org and member:
        notes.append(
            f"organization {org['organization']}: its SCPs and RCPs are readable from the"
            " management account only (`--org`), so the world holds none (they only"
            " restrict: a no stays a no, but a yes may be stopped by one)"
        )
    for a in found.accounts:
        for b in a.buckets:
            ref = b.get("bucket", {}).get("kms_key_id", "")
            if ref and not (ref.startswith("arn:") and ":key/" in ref):
                notes.append(
                    f"bucket {b['bucket']['arn']}: default key `{ref}` resolved in the bucket"
                    " owner's account (objects another account writes resolve it in theirs)"
                )
    elsewhere = sum("elsewhere" in b for a in found.accounts for b in a.buckets)
    if elsewhere:
        notes.append(f"{elsewhere} bucket(s) in Regions not collected were left out")
    changed = len(store.changed)
    return Summary(
        world=str(world),
        organization=org.get("organization"),
        accounts=tuple((a.id, bool(a.iam and a.iam.get("complete"))) for a in found.accounts),
        regions=tuple(sorted({r for a in found.accounts for r in a.regions})),
        counts=tuple(counts.items()),
        refused=tuple(found.refused()),
        notes=tuple(notes),
        files=(
            ("written", changed),
            ("unchanged", len(store.kept) - changed),
            ("removed", len(store.removed)),
        ),
        resumed=len(reused),
        problems=tuple(problems),
    )


def render_text(s: Summary) -> str:
    complete = [a for a, c in s.accounts if c]
    opened = [a for a, c in s.accounts if not c]
    lines = [f"collected {s.world}"]
    lines.append(
        f"  accounts: {len(s.accounts)} ({len(complete)} complete"
        + (f"; open: {', '.join(opened)}" if opened else "")
        + ")"
        + (f", organization {s.organization}" if s.organization else "")
    )
    lines.append(f"  Regions: {', '.join(s.regions) or 'none'}")
    lines.append(
        "  read: " + ", ".join(_count(n, what) for what, n in s.counts if n or what == "key")
    )
    lines.append("  files: " + ", ".join(f"{n} {what}" for what, n in s.files))
    if s.resumed:
        lines.append(f"  resumed: {s.resumed} unit(s) kept from the interrupted run")
    lines += [f"  note: {n}" for n in s.notes]
    if s.refused:
        lines.append(f"refused ({len(s.refused)}):")
        for r in s.refused:
            scope = "answers about it are unknown" if r["hedge"] else "left out of the world"
            if r["hedge"] and not r.get("key"):
                scope = "every answer is unknown"
            lines.append(
                f"  {r['action']} {r['code']}: {r['subject']}: {r['effect']}; {scope}"
                + (f" ({r['message']})" if r["message"] else "")
            )
    else:
        lines.append("refused: nothing")
    lines += [f"the collected world does not load: {p}" for p in s.problems]
    return "\n".join(lines)


JSON_NAMES = {
    "key": "keys",
    "AWS managed key": "aws_managed_keys",
    "grant": "grants",
    "IAM user or role": "principals",
    "bucket": "buckets",
    "bucket with SSE-KMS": "sse_kms_buckets",
    "KMS VPC endpoint": "vpc_endpoints",
    "SCP": "scps",
    "RCP": "rcps",
}
PLURALS = {"IAM user or role": "IAM users and roles", "bucket with SSE-KMS": "buckets with SSE-KMS"}


def _count(n: int, what: str) -> str:
    return f"{n} {what}" if n == 1 else f"{n} {PLURALS.get(what, what + 's')}"


def render_json(s: Summary) -> dict[str, Any]:
    return {
        "world": s.world,
        "organization": s.organization,
        "accounts": [{"id": a, "complete": c} for a, c in s.accounts],
        "regions": list(s.regions),
        "read": {JSON_NAMES[what]: n for what, n in s.counts},
        "refused": [dict(r) for r in s.refused],
        "notes": list(s.notes),
        "files": dict(s.files),
        "resumed": s.resumed,
        "problems": list(s.problems),
    }

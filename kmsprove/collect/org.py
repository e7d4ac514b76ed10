"""AWS Organizations, read from the management account: the organization, its OU tree,
its SCPs and RCPs with their targets, and for each account the documents that bind it.

SCPs: AWS allows an action only if every level of the account's path (root, each OU,
the account) has an SCP that allows it, and no SCP on the path denies it. A world
holds one level per account (docs/choices.md), so the path is flattened:

- a level with a full-access Allow (`FullAWSAccess`: `*` on `*`, no condition) lets
  everything through; only its Deny statements count;
- with no restricting level, every SCP of the path is listed (their union allows
  everything, every Deny applies): exact;
- with one restricting level (an allow list), its SCPs are listed whole and the other
  levels' SCPs by their Deny statements only (`organization/policies/ID.deny-only.json`):
  exact;
- with allow lists at several levels, the closest to the root is kept and the others
  by their denies, which allows more than AWS does: the account gets an `unknowns`
  entry, so no answer rests on it.

RCPs: only `RCPFullAWSAccess` allows (customer RCPs can only deny), and it sits on
every level, so the RCPs of the whole path, listed together, are exact.
"""

from __future__ import annotations

import json
from typing import Any

from kmsprove.collect.aws import Aws, CollectError, Refused
from kmsprove.collect.found import refusal
from kmsprove.collect.store import Store

SCP = "SERVICE_CONTROL_POLICY"
RCP = "RESOURCE_CONTROL_POLICY"
NOT_IN_USE = ("AWSOrganizationsNotInUseException",)


def describe(aws: Aws, store: Store) -> dict[str, Any]:
    """Single-account scope: the organization id and whether this is its management
    account (SCPs and RCPs are readable from the management account only: `--org`)."""
    try:
        found = aws.call("organizations", "DescribeOrganization", absent=NOT_IN_USE)
    except Refused as exc:
        effect = "organization unknown (aws:PrincipalOrgID left open)"
        return {
            "refused": [
                refusal(exc.refusal, f"the organization of {aws.account}", effect, None, False)
            ],
            "files": [],
        }
    if found is None:
        return {"organization": None, "refused": [], "files": []}
    org = found["Organization"]
    rel = store.write("organization/organization.json", found)
    return {
        "organization": org["Id"],
        "management": org.get("MasterAccountId"),
        "refused": [],
        "files": [rel],
    }


def collect_org(aws: Aws, store: Store) -> dict[str, Any]:
    """`--org`: the organization's accounts and, per account, its SCPs and RCPs."""
    try:
        found = aws.call("organizations", "DescribeOrganization", absent=NOT_IN_USE)
        if found is None:
            raise CollectError(f"--org: account {aws.account} is not in an organization")
        files = [store.write("organization/organization.json", found)]
        roots = aws.pages("organizations", "ListRoots", ("Roots",))["Roots"]
        parents, accounts, ous = _tree(aws, roots[0]["Id"])
    except Refused as exc:
        raise CollectError(
            f"--org: {exc.refusal.reason}: run it with the management account's credentials"
            " (or a delegated administrator's)"
        ) from None
    org = found["Organization"]
    tree = {"Roots": roots, "OrganizationalUnits": ous, "Accounts": list(accounts.values())}
    files.append(store.write("organization/tree.json", tree))
    enabled = {t["Type"] for t in roots[0].get("PolicyTypes", []) if t.get("Status") == "ENABLED"}
    refused: list[dict[str, Any]] = []
    docs: dict[str, dict[str, Any]] = {}
    attached: dict[str, dict[str, list[str]]] = {SCP: {}, RCP: {}}
    listing = []
    counts = {}
    for kind, name in ((SCP, "scps"), (RCP, "rcps")):
        found_kind = []
        if kind in enabled:
            found_kind = _policies(aws, store, kind, docs, attached[kind], refused, files)
        counts[name] = len(found_kind)
        listing += found_kind
    files.append(store.write("organization/policies.json", {"Policies": listing}))
    out: dict[str, Any] = {}
    management = org.get("MasterAccountId")
    for acct_id, acct in accounts.items():
        path = _path(acct_id, parents)
        entry: dict[str, Any] = {"name": acct.get("Name", ""), "status": acct.get("Status", "")}
        if acct_id != management:
            scps, problem = flatten_scps(path, attached[SCP], docs, store, files)
            entry["scps"] = scps
            entry["rcps"] = _dedupe(
                f"organization/policies/{p}.json"
                for lvl in path
                for p in attached[RCP].get(lvl, [])
            )
            if problem:
                entry["unsettled"] = f"the SCPs of {acct_id}: {problem}"
        out[acct_id] = entry
    return {
        "organization": org["Id"],
        "management": management,
        "accounts": out,
        "policies": counts,
        "refused": refused,
        "files": files,
    }


def _tree(aws: Aws, root: str) -> tuple[dict[str, str], dict[str, Any], list[Any]]:
    """Parent of every OU and account, the accounts, the OUs (walked from the root)."""
    parents: dict[str, str] = {}
    accounts: dict[str, Any] = {}
    ous: list[Any] = []
    queue = [root]
    while queue:
        parent = queue.pop(0)
        children = aws.pages(
            "organizations",
            "ListOrganizationalUnitsForParent",
            ("OrganizationalUnits",),
            ParentId=parent,
        )["OrganizationalUnits"]
        for ou in children:
            parents[ou["Id"]] = parent
            ous.append({**ou, "ParentId": parent})
            queue.append(ou["Id"])
        members = aws.pages(
            "organizations", "ListAccountsForParent", ("Accounts",), ParentId=parent
        )
        for a in members["Accounts"]:
            parents[a["Id"]] = parent
            accounts[a["Id"]] = {**a, "ParentId": parent}
    return parents, dict(sorted(accounts.items())), ous


def _path(target: str, parents: dict[str, str]) -> list[str]:
    """Root, OUs, the account: the levels whose policies bind it."""
    out = [target]
    while out[-1] in parents:
        out.append(parents[out[-1]])
    return out[::-1]


def _policies(
    aws: Aws,
    store: Store,
    kind: str,
    docs: dict[str, dict[str, Any]],
    attached: dict[str, list[str]],
    refused: list[dict[str, Any]],
    files: list[str],
) -> list[Any]:
    try:
        listed = aws.pages("organizations", "ListPolicies", ("Policies",), Filter=kind)["Policies"]
    except Refused as exc:
        # policies of this type bind accounts, and none is known: every answer
        refused.append(refusal(exc.refusal, f"the {kind} policies", "none listed"))
        return []
    out = []
    for summary in listed:
        pid = summary["Id"]
        try:
            content = aws.call("organizations", "DescribePolicy", PolicyId=pid)
            targets = aws.pages("organizations", "ListTargetsForPolicy", ("Targets",), PolicyId=pid)
        except Refused as exc:
            # a policy of unknown content or targets may bind any account: every answer
            refused.append(refusal(exc.refusal, f"policy {pid}", "left out"))
            continue
        assert content is not None
        docs[pid] = json.loads(content["Policy"]["Content"])
        files.append(store.write(f"organization/policies/{pid}.json", docs[pid], document=True))
        for t in targets["Targets"]:
            attached.setdefault(t["TargetId"], []).append(pid)
        out.append({**summary, "Targets": targets["Targets"]})
    return out


def flatten_scps(
    path: list[str],
    attached: dict[str, list[str]],
    docs: dict[str, dict[str, Any]],
    store: Store,
    files: list[str],
) -> tuple[list[str], str | None]:
    """The SCP documents of one level equivalent to the path (module docstring), and
    what is not exact, if anything."""
    levels = [sorted(set(attached.get(lvl, []))) for lvl in path]
    restricting = [i for i, lvl in enumerate(levels) if not any(full_access(docs[p]) for p in lvl)]
    if not restricting:
        return _dedupe(f"organization/policies/{p}.json" for lvl in levels for p in lvl), None
    kept = restricting[0]
    out = [f"organization/policies/{p}.json" for p in levels[kept]]
    for i, lvl in enumerate(levels):
        if i == kept:
            continue
        for p in lvl:
            denies = [s for s in _statements(docs[p]) if s.get("Effect") == "Deny"]
            if denies and len(denies) == len(_statements(docs[p])):
                out.append(f"organization/policies/{p}.json")  # nothing to take out
            elif denies:
                rel = f"organization/policies/{p}.deny-only.json"
                doc = {"Version": docs[p].get("Version", "2012-10-17"), "Statement": denies}
                files.append(store.write(rel, doc, document=True))
                out.append(rel)
    problem = None
    if len(restricting) > 1:
        problem = f"allow lists at {len(restricting)} levels of its OU path; the world holds one"
    return _dedupe(out), problem


def full_access(doc: dict[str, Any]) -> bool:
    """An Allow of every action on every resource, unconditionally (`FullAWSAccess`)."""
    for s in _statements(doc):
        if s.get("Effect") != "Allow" or "Condition" in s or "NotAction" in s:
            continue
        if "NotResource" in s:
            continue
        if _is_star(s.get("Action")) and _is_star(s.get("Resource", "*")):
            return True
    return False


def _is_star(value: Any) -> bool:
    return bool(value == "*" or value == ["*"])


def _statements(doc: dict[str, Any]) -> list[dict[str, Any]]:
    body = doc.get("Statement", [])
    items = body if isinstance(body, list) else [body]
    return [s for s in items if isinstance(s, dict)]


def _dedupe(items: Any) -> list[str]:
    return list(dict.fromkeys(items))

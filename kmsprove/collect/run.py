"""`kmsprove collect`: the units of one run, in order, each done once (`--resume` skips
the units the progress log lists), then the world file.

Units: the organization (`org`, or `org:ACCOUNT` for one account), then per account
its Regions (`--all-regions`), IAM, per Region the key listing, each key and the KMS
VPC endpoints, the bucket list and each bucket. A unit's record (files written, world
entries, refusals) goes to the progress log the moment it finishes, so a run cut short
by Ctrl-C or a crash loses at most the unit it was in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError

from kmsprove.collect import accounts, kms, org
from kmsprove.collect.assemble import AccountFound, Found, world_document
from kmsprove.collect.aws import Aws, CollectError, Refused, client_config
from kmsprove.collect.found import refusal
from kmsprove.collect.store import Progress, ScopeMismatch, Store, dumps
from kmsprove.collect.summary import Summary, summarize
from kmsprove.errors import InputError, SourcePos
from kmsprove.inputs import load_world_with_warnings

WORLD = "world.json"
SUBTREES = ("accounts", "organization")  # what the collector owns under DIR


@dataclass(frozen=True)
class Options:
    out: Path
    profile: str | None = None
    region: str | None = None
    all_regions: bool = False
    org: bool = False
    role_name: str | None = None
    resume: bool = False
    max_attempts: int = 10
    page_size: int | None = None

    def scope(self) -> dict[str, Any]:
        """What a resumed run must share with the run it continues."""
        return {
            "profile": self.profile,
            "region": self.region,
            "all_regions": self.all_regions,
            "org": self.org,
            "role_name": self.role_name,
            "page_size": self.page_size,
        }


@dataclass
class Ticker:
    """A progress display: `grow` when more units are known, `advance` per unit done."""

    grow: Callable[[int], None] = lambda n: None
    advance: Callable[[int], None] = lambda n: None


@dataclass
class _Runner:
    log: Progress
    store: Store
    ticker: Ticker
    reused: list[str] = field(default_factory=list)

    def unit(self, name: str, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        if name in self.log.done:
            self.reused.append(name)
            record: dict[str, Any] = self.log.done[name]
            self.store.kept.update(record.get("files", []))  # still this run's output
        else:
            record = work()
            self.log.finish(name, record)
        self.ticker.advance(1)
        return record

    def read(
        self, name: str, member: _Member, work: Callable[..., dict[str, Any]], *args: Any
    ) -> dict[str, Any]:
        """A unit that reads with `member`'s clients: `work(aws, *args)`. Each unit records
        the refusals it expects; one it does not (the role refused on a resumed run) stops
        the run, its progress kept."""

        def attempt() -> dict[str, Any]:
            try:
                return work(member.get(), *args)
            except Refused as exc:
                raise CollectError(f"{exc.refusal.reason}: {exc.refusal.message}") from None

        return self.unit(name, attempt)


def run_collect(
    options: Options, session: boto3.Session | None = None, ticker: Ticker | None = None
) -> Summary:
    """`collect`, with bad options and a run that cannot go on as `InputError` (exit 2;
    what was written stays, for `--resume`)."""
    if options.org and not options.role_name:
        raise InputError.at_cli(
            "--org needs --role-name: the role to assume in each member account"
        )
    if options.role_name and not options.org:
        raise InputError.at_cli("--role-name is for --org (the role in each member account)")
    try:
        return collect(options, session, ticker)
    except CollectError as exc:
        raise InputError.at(
            SourcePos("<aws>"), f"{exc}; what was written is kept: run again with --resume"
        ) from None
    except ScopeMismatch as exc:
        raise InputError.at_cli(
            f"--resume: {options.out} holds a run with other options ({_options(exc.scope)}):"
            " run again with those, or without --resume"
        ) from None


def _options(scope: Any) -> str:
    if not isinstance(scope, dict):
        return "unknown"
    return ", ".join(f"{k}={v}" for k, v in sorted(scope.items()) if v not in (None, False))


def collect(
    options: Options, session: boto3.Session | None = None, ticker: Ticker | None = None
) -> Summary:
    """Collect the scope of `options` into `options.out`; the summary says what was read
    and what was refused. Raises `CollectError` when the run cannot go on."""
    try:
        session = session or boto3.Session(profile_name=options.profile, region_name=options.region)
    except BotoCoreError as exc:
        raise CollectError(str(exc)) from None
    home = options.region or session.region_name or "us-east-1"
    base = Aws(session, client_config(options.max_attempts), home, options.page_size)
    try:
        base.identify()
    except Refused as exc:
        raise CollectError(f"{exc.refusal.reason}: {exc.refusal.message}") from None
    store = Store(options.out)
    store.clean_temporaries()
    log = Progress(options.out, options.scope(), options.resume)
    run = _Runner(log, store, ticker or Ticker())
    run.ticker.grow(1)
    own = _Member(base, base.account, None)
    if options.org:
        org_rec = run.read("org", own, org.collect_org, store)
        ids = [a for a, e in org_rec["accounts"].items() if e.get("status", "ACTIVE") == "ACTIVE"]
    else:
        org_rec = run.read(f"org:{base.account}", own, org.describe, store)
        ids = [base.account]
    found = Found(base.partition, options.all_regions, org_rec, [])
    for acct_id in sorted(ids):
        found.accounts.append(_account(run, store, options, base, acct_id))
    doc = world_document(found)
    store.write_text(WORLD, dumps(doc))
    store.prune(SUBTREES)
    log.complete()
    try:
        load_world_with_warnings(options.out / WORLD)
        problems: list[str] = []
    except InputError as exc:  # AWS returned a document kmsprove rejects: say which
        problems = [str(d) for d in exc.diagnostics]
    return summarize(options.out / WORLD, found, doc, store, run.reused, problems)


class _Member:
    """An account's clients, made on first use (a resumed account may need none)."""

    def __init__(self, base: Aws, account: str, role_name: str | None) -> None:
        self.base, self.account, self.role_name = base, account, role_name
        self._aws: Aws | None = base if account == base.account else None

    def get(self) -> Aws:
        if self._aws is None or self._aws.expiring():
            assert self.role_name is not None
            self._aws = self.base.assume(self.account, self.role_name)
        return self._aws


def _account(run: _Runner, store: Store, options: Options, base: Aws, acct_id: str) -> AccountFound:
    member = _Member(base, acct_id, options.role_name)

    def assume() -> dict[str, Any]:
        try:
            member.get()
        except Refused as exc:
            effect = "nothing of the account is read; it stays open"
            return {"refused": [refusal(exc.refusal, f"account {acct_id}", effect)], "files": []}
        return {"refused": [], "files": []}

    found = AccountFound(acct_id, [base.home_region])
    if acct_id != base.account:
        run.ticker.grow(1)
        found.assume = run.unit(f"assume:{acct_id}", assume)
        if found.assume["refused"]:
            found.regions = []
            return found
    run.ticker.grow(3 if options.all_regions else 2)
    if options.all_regions:
        listed = run.read(f"regions:{acct_id}", member, accounts.collect_regions, store)
        found.listings.append(listed)
        found.regions = listed["regions"]
    found.iam = run.read(f"iam:{acct_id}", member, accounts.collect_iam, store)
    run.ticker.grow(2 * len(found.regions))
    for region in found.regions:
        _region(run, store, member, found, region)
    buckets = run.read(f"s3:{acct_id}", member, accounts.list_buckets, store)
    found.listings.append(buckets)
    run.ticker.grow(len(buckets["buckets"]))
    for name in buckets["buckets"]:
        found.buckets.append(
            run.read(
                f"bucket:{acct_id}:{name}",
                member,
                accounts.collect_bucket,
                store,
                name,
                found.regions,
            )
        )
    return found


def _region(run: _Runner, store: Store, member: _Member, found: AccountFound, region: str) -> None:
    """The keys of one Region, each key, and the Region's KMS VPC endpoints."""
    acct_id = found.id
    listing = run.read(f"kms:{acct_id}:{region}", member, kms.collect_region, store, region)
    found.kms[region] = listing
    run.ticker.grow(len(listing["keys"]))
    for arn in listing["keys"]:
        found.keys.append(run.read(f"key:{arn}", member, kms.collect_key, store, arn))
    found.endpoints.append(
        run.read(f"vpce:{acct_id}:{region}", member, accounts.collect_endpoints, store, region)
    )

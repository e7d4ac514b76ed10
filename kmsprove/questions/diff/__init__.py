"""Diff stage: two key policies, two identity policies or two worlds -> `DiffResult`.

The relation of OLD and NEW over every request either side decides:

- new access: a request NEW allows and OLD denies; removed access: the reverse;
- equivalent (neither), more-permissive (only new access), less-permissive
  (only removed access), incomparable (both), unknown (a direction timed out,
  needs something not modelled, rests on a bound or an assumption, or its
  witness was not confirmed by the evaluator).

Each direction is one solver question over ONE symbolic request and ONE
universe for both sides (the argument is in `kmsprove.questions.diff.pair`), and every
witness is re-checked by the evaluator on both sides. How policies are placed:
a key policy on the example key `EXAMPLE_KEY` with every account open
(`place_key_policy`); an identity policy on every caller of every account, over
one key per class of key ARNs the policies tell apart (`kmsprove.questions.diff.identity`);
two worlds key by key, by ARN (a key in one world only allows nothing in the other).
"""

from __future__ import annotations

import time
from functools import partial

from kmsprove.answer import DiffResult, Finding, FindingStatus, Relation, relation_of
from kmsprove.ast import Policy, Query, Who, WhoKind
from kmsprove.catalog import kms_catalog
from kmsprove.encode.errors import Unmodelled
from kmsprove.encode.universe import mentions
from kmsprove.errors import Diagnostic, InputError, SourcePos
from kmsprove.inputs import check_options_used, read, read_as, template_notes
from kmsprove.inputs.options import NO_OPTIONS, ReadOptions
from kmsprove.questions.diff.identity import identity_probes
from kmsprove.questions.diff.pair import (
    DIRECTIONS,
    Probe,
    compare,
)
from kmsprove.questions.diff.worlds import union_world, world_pair
from kmsprove.questions.hedge import hedge_diff
from kmsprove.solve.bounds import bound_exceeded
from kmsprove.syntax.query import parse_who as query_who
from kmsprove.world import Key, World

EXAMPLE_KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
KINDS = ("key-policy", "identity-policy", "world")
# key properties a key policy can test (aws:ResourceTag and kms:ResourceAliases are
# absent from key policies, 10.11): the example key has the default ones
KEY_POLICY_PROPERTY_TESTS = (
    "kms:keyspec",
    "kms:keyusage",
    "kms:keyorigin",
    "kms:multiregion",
    "kms:requestalias",
)
ANYONE = Who(WhoKind.ANYONE)


# --------------------------------------------------------------------------
# inputs


def parse_who(text: str) -> Who:
    """The `who` of the query language (`any principal outside account A`), alone."""
    if text == "anyone":  # the default: no need to build the query grammar's parser for it
        return ANYONE
    who, ever = query_who(text, "<who>")
    if ever is not None:
        raise InputError.at(
            ever, "`ever` is not supported by diff: it compares what each side allows today"
        )
    return who


def load_pair(
    old: str,
    new: str,
    kind: str | None,
    options: ReadOptions = NO_OPTIONS,
    warnings: list[Diagnostic] | None = None,
) -> tuple[str, object, object]:
    """(kind, OLD, NEW): two `Policy`s or two `World`s (a template read with `options`),
    or InputError; the warnings of both go to `warnings`."""
    if kind is not None and kind not in KINDS:
        raise InputError.at_cli(
            f"diff compares key policies, identity policies or worlds, not `{kind}`"
        )
    a = read(old, kind, options)
    if not a.kind:  # what OLD is could not be told: its problems first
        raise InputError(a.errors)
    b = read(new, kind, options)
    if not b.kind:
        raise InputError(b.errors)
    if a.kind != b.kind:
        raise InputError.at(
            SourcePos(new, 1, 1),
            f"this looks like {_a(b.kind)}, but `{old}` looks like {_a(a.kind)}: diff compares "
            "two documents of the same kind (give `--kind` if the guess is wrong)",
        )
    if a.kind not in KINDS:
        raise InputError.at(
            SourcePos(old, 1, 1),
            f"diff compares key policies, identity policies or worlds, not {_a(a.kind)}",
        )
    if a.errors or b.errors:
        raise InputError([*a.errors, *b.errors])
    check_options_used(options, [a, b], [old, new])
    if warnings is not None:
        warnings += [*template_notes(a), *template_notes(b)]
    return a.kind, a.value, b.value


def _a(kind: str) -> str:
    special = {"scp": "an SCP", "rcp": "an RCP", "grants": "grants", "world": "a world file"}
    words = kind.replace("-", " ").replace("vpce", "VPC endpoint")
    return special.get(kind) or ("an " if words[0] in "aeiou" else "a ") + words


def load_side(path: str, kind: str, options: ReadOptions = NO_OPTIONS) -> World | Policy:
    """One side of a diff, read as `kind`."""
    value = read_as(path, (kind,), kind, options).value
    assert isinstance(value, (World, Policy))
    return value


def diff_files(
    old: str,
    new: str,
    kind: str | None,
    who: str,
    timeout: float,
    options: ReadOptions = NO_OPTIONS,
    warnings: list[Diagnostic] | None = None,
) -> DiffResult:
    """`kmsprove diff OLD NEW`: load (templates with `options`; their warnings to
    `warnings`), place and compare."""
    w = parse_who(who)
    k, a, b = load_pair(old, new, kind, options, warnings)
    if k == "world":
        return diff_worlds(a, b, w, timeout)  # type: ignore[arg-type]
    if k == "key-policy":
        return diff_key_policies(a, b, w, timeout)  # type: ignore[arg-type]
    return diff_identity_policies(a, b, w, timeout)  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# comparing


def place_key_policy(policy: Policy) -> World:
    """The policy on `EXAMPLE_KEY`, in a world where every account is open."""
    return World(keys=(Key(EXAMPLE_KEY, policy),), file=policy.name or "<key policy>")


def diff_worlds(old: World, new: World, who: Who = ANYONE, timeout: float = 30.0) -> DiffResult:
    """Two worlds, key by key (by ARN), over KMS requests on their keys."""
    notes = ["keys compared by ARN: a key in one world only allows nothing in the other"]
    opens = sorted(a for a in union_world(old, new).accounts if old.is_open(a) or new.is_open(a))
    notes.append(
        "open accounts (principals nobody listed may exist there, with any identity policy): "
        + ", ".join([*opens, "(any other account)"])
    )
    caveat = None
    if _buckets(old) != _buckets(new):
        caveat = "the buckets differ, and diff compares KMS requests, not S3 reads"
    return hedge_diff(old, new, _diff_worlds(old, new, who, timeout, "world", caveat, notes))


def diff_key_policies(
    old: Policy, new: Policy, who: Who = ANYONE, timeout: float = 30.0
) -> DiffResult:
    """Two key policies on the same key, every account open."""
    tested = [k for k in KEY_POLICY_PROPERTY_TESTS if mentions((old, new), k)]
    caveat = (
        f"the policies test {', '.join(tested)}, and diff compares them on one key with "
        "default properties (symmetric, single-Region, no aliases)"
        if tested
        else None
    )
    notes = [
        f"both policies on {EXAMPLE_KEY} (symmetric, no aliases, no tags, no grants)",
        "every account open: principals nobody named may exist, with any identity policy",
    ]
    a, b = place_key_policy(old), place_key_policy(new)
    return _diff_worlds(a, b, who, timeout, "key-policy", caveat, notes)


def diff_identity_policies(
    old: Policy, new: Policy, who: Who = ANYONE, timeout: float = 30.0
) -> DiffResult:
    """Two identity policies on the same callers (see `kmsprove.questions.diff.identity`)."""
    start = time.monotonic()
    notes = [
        "the policy is the only identity policy of every IAM user, role session and federated "
        "user of every account (no boundary, session policy or SCP)",
        "one key per class of key ARNs the policies tell apart, each with a key policy that "
        "lets IAM decide; requests on no key and on aliases: IAM alone",
    ]
    try:
        probes = identity_probes(old, new, Query(who, ("kms:*",)))
    except Unmodelled as exc:  # the key ARN classes could not be enumerated
        new_access, removed = (
            Finding(FindingStatus.UNKNOWN, reason=f"not modelled: {exc}") for _ in "ab"
        )
        seconds = time.monotonic() - start
        return DiffResult(
            Relation.UNKNOWN, new_access, removed, "identity-policy", (), tuple(notes), seconds
        )
    return _result("identity-policy", probes, start, timeout, notes)


def _buckets(world: World) -> list[tuple[object, ...]]:
    """What decides S3 reads, bucket by bucket (policies by content, not file name)."""
    shape = [
        (
            b.arn,
            b.account,
            b.region,
            b.kms_key,
            b.bucket_key,
            b.policy.statements if b.policy else (),
        )
        for b in world.buckets
    ]
    return sorted(shape, key=lambda t: str(t[0]))


def _diff_worlds(
    old: World,
    new: World,
    who: Who,
    timeout: float,
    kind: str,
    caveat: str | None,
    notes: list[str],
) -> DiffResult:
    start = time.monotonic()
    query = Query(who, ("kms:*",))
    union = union_world(old, new)
    caveat = bound_exceeded(union) or caveat
    infos = [i for i in kms_catalog().values() if i.on_key]
    arns = list(dict.fromkeys(k.arn for k in (*old.keys, *new.keys)))
    probes = [Probe(a, partial(world_pair, old, new, union, a, query, infos, caveat)) for a in arns]
    return _result(kind, probes, start, timeout, notes)


def _result(
    kind: str, probes: list[Probe], start: float, timeout: float, notes: list[str]
) -> DiffResult:
    """Both directions over every probe: a direction is found on the first probe that
    finds it, unknown if none finds it and some probe is unknown, else none."""
    found: dict[str, Finding] = {}
    unknown: dict[str, Finding] = {}
    for probe in probes:
        todo = tuple(d for d in DIRECTIONS if d not in found)
        if not todo:
            break
        try:
            pair = probe.build()
        except Unmodelled as exc:
            for d in todo:
                unknown.setdefault(
                    d,
                    Finding(
                        FindingStatus.UNKNOWN, reason=f"not modelled: {exc}", where=probe.where
                    ),
                )
            continue
        for d, f in compare(pair, todo, start + timeout).items():
            if f.status is FindingStatus.FOUND:
                found[d] = f
            elif f.status is FindingStatus.UNKNOWN:
                unknown.setdefault(d, f)
    new, removed = (
        found.get(d)
        or unknown.get(d)
        or Finding(FindingStatus.NONE, reason="no such request (proved)")
        for d in DIRECTIONS
    )
    return DiffResult(
        relation_of(new.status, removed.status),
        new,
        removed,
        kind,
        tuple(p.where for p in probes),
        tuple(notes),
        time.monotonic() - start,
    )

"""Inputs: a bare key policy (or `aws kms get-key-policy` output) -> a `World` of one key.

Given where a world file is expected (`explain`, `query`, `check`), a key policy is the
world a world file holding just `keys: [{arn, policy}]` describes: one key with that
policy, no accounts described (every account open), nothing else. The key's ARN is
`--key-arn`; else the one account the policy's Allow statements name as its root
(`arn:aws:iam::ACCT:root` or a bare account id, as the default key policy does), on a
placeholder Region and key id (docs/choices.md) that a warning at that principal owns up
to; else an error saying what to add.
"""

from __future__ import annotations

from kmsprove import validate
from kmsprove.arn import parse_arn, parse_caller
from kmsprove.ast import Effect, Policy, Principal
from kmsprove.errors import Diagnostic, InputError, SourcePos, warning
from kmsprove.inputs.world_file import KEY_ARN_RE
from kmsprove.world import Key, PlacedKey, World

# The placeholders of a key whose account comes from its policy (docs/choices.md): the
# AWS documentation's example key id, in each partition's first Region; `diff` places
# key policies on the same example key.
EXAMPLE_KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
PLACEHOLDER_REGIONS = {"aws": "us-east-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1"}
KEY_ARN_FORM = "arn:aws:kms:REGION:ACCOUNT:key/ID"

# What each document that is not a world is, and where it belongs, for the error.
NOT_A_WORLD = {
    "identity-policy": (
        "an identity policy or an SCP (no statement names a `Principal`)",
        "put it in a world file (a principal's `policies`, an account's `scps`)",
    ),
    "bucket-policy": ("a bucket policy", "put it in a world file (a bucket's `policy`)"),
    "trust-policy": ("a trust policy", "put it in a world file (a role's `trust_policy`)"),
    "grants": ("a list of grants", "put it in a world file (a key's `grants`)"),
    "request": (
        "an `explain` request file",
        "give it to `kmsprove explain WORLD --request FILE`",
    ),
}


def check_key_arn(key_arn: str | None) -> None:
    """`--key-arn` must be a KMS key ARN; bad input raises `InputError` at `<cli>`."""
    if key_arn is not None and not KEY_ARN_RE.fullmatch(key_arn):
        raise InputError.at_cli(f"--key-arn `{key_arn}` is not a KMS key ARN ({KEY_ARN_FORM})")


def not_a_world(path: str, kind: str) -> InputError:
    """The error for a document of `kind` given where a world is expected."""
    what, hint = NOT_A_WORLD.get(kind, (f"a {kind.replace('-', ' ')}", "put it in a world file"))
    return InputError.at(SourcePos(path), f"this is {what}, not a world or a key policy: {hint}")


def key_policy_world(
    path: str, policy: Policy, key_arn: str | None
) -> tuple[World, PlacedKey, list[Diagnostic]]:
    """The world of one key with `policy`, the key it was placed on, and the diagnostics
    of placing it; `InputError` when neither `key_arn` nor the policy says which key."""
    notes: list[Diagnostic] = []
    placed = PlacedKey(key_arn, assumed=False) if key_arn is not None else None
    if placed is None:
        found = _root_account(policy)
        if found is None:
            raise InputError.at(
                SourcePos(path),
                f"a key policy alone does not say which key it is: give --key-arn {KEY_ARN_FORM}",
            )
        principal, partition, account = found
        region = PLACEHOLDER_REGIONS[partition]
        placed = PlacedKey(f"arn:{partition}:kms:{region}:{account}:key/{EXAMPLE_KEY_ID}", True)
        notes.append(
            warning(
                principal.pos,
                f"the key's account is taken from this principal: {account}; its Region and"
                f" key id are placeholders (`{placed.arn}`): give --key-arn for the real key",
            )
        )
    world = World(keys=(Key(placed.arn, policy, pos=policy.pos),), file=path)
    return world, placed, [*notes, *validate.check_world(world)]


def _root_account(policy: Policy) -> tuple[Principal, str, str] | None:
    """The first principal naming an account's root in an Allow statement, with its
    partition and account, when exactly one account is named that way (a bare account
    id is stored as its root ARN, `kmsprove.ast.Principal`)."""
    roots: dict[str, tuple[Principal, str]] = {}
    for st in policy.statements:
        if st.effect is not Effect.ALLOW:
            continue
        for p in st.principal or ():
            caller = parse_caller(p.value)
            arn = parse_arn(p.value)
            if p.kind != "AWS" or caller.kind != "root" or caller.account is None or arn is None:
                continue
            roots.setdefault(caller.account, (p, arn.partition))
    if len(roots) != 1:
        return None
    [(account, (principal, partition))] = roots.items()
    if partition not in PLACEHOLDER_REGIONS:
        return None  # a partition whose Regions kmsprove does not name: ask for the ARN
    return principal, partition, account

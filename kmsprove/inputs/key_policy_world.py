"""Inputs: a command's WORLD argument -> a `World` (`load_world_input`): a world file or
a template as `kmsprove.inputs` reads them, or a bare key policy (or `aws kms
get-key-policy` output) as a `World` of one key.

Given where a world file is expected (`explain`, `query`, `check`), a key policy is the
world a world file holding just `keys: [{arn, policy}]` describes: one key with that
policy, no accounts described (every account open), nothing else. The key's ARN is
`--key-arn`; else the one account the policy's Allow statements name as its root
(`arn:aws:iam::ACCT:root` or a bare account id, as the default key policy does), on a
placeholder Region and key id (docs/choices.md) that a warning at that principal owns up
to and every answer repeats (`World.assumed`); else an error saying what to add.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from kmsprove import validate
from kmsprove.arn import parse_arn, parse_caller
from kmsprove.ast import Effect, Policy, Principal
from kmsprove.errors import Diagnostic, InputError, SourcePos, printable, sort_diagnostics, warning
from kmsprove.inputs import check_options_used, read, template_notes
from kmsprove.inputs.files import Source
from kmsprove.inputs.options import KEY_ARN_FORM, NO_OPTIONS, ReadOptions
from kmsprove.world import Key, World

# The placeholders of a key whose account comes from its policy (docs/choices.md): the
# AWS documentation's example key id, in each partition's first Region; `diff` places
# key policies on the same example key.
EXAMPLE_KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
PLACEHOLDER_REGIONS = {"aws": "us-east-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1"}

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


@dataclass(frozen=True)
class WorldInput:
    """A command's WORLD argument, read: the world, what its reader assumed for the user
    to see (`load_world_notes`; a key policy's own warnings and where its key came from),
    and the options that read it again: for a key policy, `--key-arn` with the key it
    was placed on, so the commands a report prints rebuild the same world."""

    world: World
    warnings: tuple[Diagnostic, ...] = ()
    options: ReadOptions = NO_OPTIONS
    sources: tuple[Source, ...] = ()  # every file it was read from (`Loaded.sources`)


def load_world_input(path: str, options: ReadOptions = NO_OPTIONS) -> WorldInput:
    """What a command's WORLD argument names: a world file or a template (as
    `load_world_notes` reads them), or a key policy (a document or `aws kms
    get-key-policy` output) as a world of one key, `options.key_arn` or the one its
    policy's root principal says. Another document is an error saying what it is;
    raise `InputError` with every error."""
    loaded = read(path, None, options)
    if loaded.kind == "key-policy":
        check_options_used(options, [loaded], [path])  # the template flags: not here
        if loaded.errors or not isinstance(loaded.value, Policy):
            raise InputError(loaded.errors or loaded.diagnostics)
        world, notes = key_policy_world(path, loaded.value, options.key_arn)
        diags = sort_diagnostics(printable([*loaded.diagnostics, *notes]))
        if any(d.is_error for d in diags):
            raise InputError([d for d in diags if d.is_error])
        placed = replace(options, key_arn=world.keys[0].arn)
        return WorldInput(world, tuple(diags), placed, loaded.sources)
    if loaded.kind in NOT_A_WORLD:
        raise not_a_world(path, loaded.kind)
    if options.key_arn is not None:
        raise InputError.at_cli(
            f"--key-arn names the key of a key policy given as WORLD; `{path}` is not one"
            " (a world's keys carry their ARNs)"
        )
    if loaded.kind != "world":  # what it is could not be told: read as a world
        loaded = read(path, "world", options)
    if loaded.errors or not isinstance(loaded.value, World):
        raise InputError(loaded.errors or loaded.diagnostics)
    check_options_used(options, [loaded], [path])
    return WorldInput(loaded.value, tuple(template_notes(loaded)), options, loaded.sources)


def not_a_world(path: str, kind: str) -> InputError:
    """The error for a document of `kind` given where a world is expected."""
    what, hint = NOT_A_WORLD.get(kind, (f"a {kind.replace('-', ' ')}", "put it in a world file"))
    return InputError.at(SourcePos(path), f"this is {what}, not a world or a key policy: {hint}")


def key_policy_world(
    path: str, policy: Policy, key_arn: str | None
) -> tuple[World, list[Diagnostic]]:
    """The world of one key with `policy`, and the diagnostics of placing it; `InputError`
    when neither `key_arn` nor the policy says which key it is."""
    notes: list[Diagnostic] = []
    assumed: tuple[str, ...] = ()
    if key_arn is None:
        found = _root_account(policy)
        if found is None:
            raise InputError.at(
                SourcePos(path),
                f"a key policy alone does not say which key it is: give --key-arn {KEY_ARN_FORM}",
            )
        principal, partition, account = found
        region = PLACEHOLDER_REGIONS[partition]
        key_arn = f"arn:{partition}:kms:{region}:{account}:key/{EXAMPLE_KEY_ID}"
        notes.append(
            warning(
                principal.pos,
                f"the key's account is taken from this principal: {account}; its Region and"
                f" key id are placeholders (`{key_arn}`): give --key-arn for the real key",
            )
        )
        assumed = (
            f"the key is {key_arn}: the account of the key policy's root principal, a"
            " placeholder Region and key id (give --key-arn for the real key)",
        )
    world = World(keys=(Key(key_arn, policy, pos=policy.pos),), file=path, assumed=assumed)
    return world, [*notes, *validate.check_world(world)]


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

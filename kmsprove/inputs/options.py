"""How to read an input: the options every command passes to `kmsprove.inputs.read`.

One frozen value carries everything a reader may need beyond the file itself, so a
new option is one field here and one flag in the CLI (`WORLD_OPTIONS` in `cli.py`),
and every command that reads a world takes it at once. Today: the account, Region,
parameters and physical ids a CloudFormation template is read with, and the key a bare
key policy given as WORLD is placed on (`--key-arn`). `flags()` gives
the command-line flags that read the same file the same way, for the commands a
report prints (`reproduce: kmsprove explain ...`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kmsprove.arn import ACCOUNT_RE, REGION_RE
from kmsprove.errors import Diagnostic, InputError, SourcePos, error
from kmsprove.inputs.world_file import KEY_ARN_RE

DEFAULT_ACCOUNT = "111122223333"
DEFAULT_REGION = "us-east-1"
CLI = SourcePos("<cli>", 1, 1)
KEY_ARN_FORM = "arn:aws:kms:REGION:ACCOUNT:key/ID"


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """What a reader is told besides the file (all optional; None: not given)."""

    account: str | None = None  # `--account`: AWS::AccountId of a template
    region: str | None = None  # `--region`: AWS::Region of a template
    parameters: tuple[tuple[str, str], ...] = ()  # `--parameter NAME=VALUE`, in order
    physical_ids: tuple[tuple[str, str], ...] = ()  # `--physical-id LOGICAL_ID=ID`
    # `--key-arn`: the key of a key policy given as WORLD (`inputs.key_policy_world`)
    key_arn: str | None = None

    @property
    def given(self) -> bool:
        """Some template option was given (a world file takes none)."""
        return bool(self.account or self.region or self.parameters or self.physical_ids)

    def flags(self) -> tuple[str, ...]:
        """The command-line flags that give these options again."""
        out: list[str] = []
        if self.account:
            out += ["--account", self.account]
        if self.region:
            out += ["--region", self.region]
        for name, value in self.parameters:
            out += ["--parameter", f"{name}={value}"]
        for name, value in self.physical_ids:
            out += ["--physical-id", f"{name}={value}"]
        if self.key_arn:
            out += ["--key-arn", self.key_arn]
        return tuple(out)


NO_OPTIONS = ReadOptions()


def _pairs(
    values: Iterable[str], flag: str, diags: list[Diagnostic]
) -> tuple[tuple[str, str], ...]:
    out: dict[str, str] = {}
    for item in values:
        name, eq, value = item.partition("=")
        if not eq or not name:
            diags.append(error(CLI, f"{flag} takes NAME=VALUE, not `{item}`"))
        elif name in out and out[name] != value:
            diags.append(error(CLI, f"{flag} `{name}` is given twice"))
        else:
            out[name] = value
    return tuple(out.items())


def read_options(
    account: str | None = None,
    region: str | None = None,
    parameters: Iterable[str] = (),
    physical_ids: Iterable[str] = (),
    *,
    key_arn: str | None = None,
) -> ReadOptions:
    """The options from their command-line texts; a malformed one raises `InputError`."""
    diags: list[Diagnostic] = []
    if account is not None and not ACCOUNT_RE.fullmatch(account):
        diags.append(error(CLI, f"--account takes a 12-digit account id, not `{account}`"))
    if region is not None and not REGION_RE.fullmatch(region):
        diags.append(error(CLI, f"--region takes a Region name such as us-east-1, not `{region}`"))
    if key_arn is not None and not KEY_ARN_RE.fullmatch(key_arn):
        diags.append(error(CLI, f"--key-arn `{key_arn}` is not a KMS key ARN ({KEY_ARN_FORM})"))
    options = ReadOptions(
        account,
        region,
        _pairs(parameters, "--parameter", diags),
        _pairs(physical_ids, "--physical-id", diags),
        key_arn,
    )
    if diags:
        raise InputError(diags)
    return options

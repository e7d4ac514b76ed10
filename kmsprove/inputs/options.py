"""How to read an input: the options every command passes to `kmsprove.inputs.read`.

One frozen value carries everything a reader may need beyond the file itself, so a
new option is one field here and one flag in the CLI (`WORLD_OPTIONS` in `cli.py`),
and every command that reads a world takes it at once. Today: the account, Region,
parameters and physical ids a CloudFormation template is read with. `flags()` gives
the command-line flags that read the same file the same way, for the commands a
report prints (`reproduce: kmsprove explain ...`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kmsprove.arn import ACCOUNT_RE, REGION_RE
from kmsprove.errors import Diagnostic, InputError, SourcePos, error

DEFAULT_ACCOUNT = "111122223333"
DEFAULT_REGION = "us-east-1"
CLI = SourcePos("<cli>", 1, 1)


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """What a reader is told besides the file (all optional; None: not given)."""

    account: str | None = None  # `--account`: AWS::AccountId of a template
    region: str | None = None  # `--region`: AWS::Region of a template
    parameters: tuple[tuple[str, str], ...] = ()  # `--parameter NAME=VALUE`, in order
    physical_ids: tuple[tuple[str, str], ...] = ()  # `--physical-id LOGICAL_ID=ID`

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
) -> ReadOptions:
    """The options from their command-line texts; a malformed one raises `InputError`."""
    diags: list[Diagnostic] = []
    if account is not None and not ACCOUNT_RE.fullmatch(account):
        diags.append(error(CLI, f"--account takes a 12-digit account id, not `{account}`"))
    if region is not None and not REGION_RE.fullmatch(region):
        diags.append(error(CLI, f"--region takes a Region name such as us-east-1, not `{region}`"))
    options = ReadOptions(
        account,
        region,
        _pairs(parameters, "--parameter", diags),
        _pairs(physical_ids, "--physical-id", diags),
    )
    if diags:
        raise InputError(diags)
    return options

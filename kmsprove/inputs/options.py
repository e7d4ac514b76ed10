"""Inputs: what the command line tells a reader that the input itself may not say.

A Terraform plan or a CloudFormation template may leave the account and the Region a
resource lands in to deploy time; `--account` and `--region` give them. Every reader
gets the same `ReadOptions` through `kmsprove.inputs.read`; a format that needs none
ignores them. When neither the input nor the options say, the readers use
`DEFAULT_ACCOUNT` and `DEFAULT_REGION` and say so (a warning, and every answer).
"""

from __future__ import annotations

from dataclasses import dataclass

from kmsprove.arn import ACCOUNT_RE, REGION_RE
from kmsprove.errors import InputError

DEFAULT_ACCOUNT = "111122223333"
DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """`--account` and `--region`: where resources go whose ARN the input does not give."""

    account: str | None = None
    region: str | None = None

    def args(self) -> tuple[str, ...]:
        """The command-line flags that give these options again (a reproduce line)."""
        out: tuple[str, ...] = ()
        if self.account is not None:
            out += ("--account", self.account)
        if self.region is not None:
            out += ("--region", self.region)
        return out


NO_OPTIONS = ReadOptions()


def read_options(account: str | None, region: str | None) -> ReadOptions:
    """`ReadOptions` from command-line values; a malformed one is an `InputError`."""
    if account is not None and not ACCOUNT_RE.fullmatch(account):
        raise InputError.at_cli(f"`--account {account}` is not a 12-digit account id")
    if region is not None and not REGION_RE.fullmatch(region):
        raise InputError.at_cli(f"`--region {region}` is not a Region name (like `us-east-1`)")
    return ReadOptions(account, region)

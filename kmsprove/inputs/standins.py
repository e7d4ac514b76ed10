"""Inputs: what a template or plan leaves to deploy time, as a world can hold it.

- `nobody(kind, name, pos)`: the stand-in for a document whose text only deploy time
  will tell (a Terraform value known after apply, `Fn::ImportValue`): it allows nothing
  and names nobody, so both twins can still decide every request. It always comes with
  an `Unresolved` (`unsettled`), which makes every answer it may change unknown
  (`kmsprove.questions.hedge`): the stand-in never turns into a "no".
- `unsettled(reason, key, pos)`: that `Unresolved`, and the warning the world loader
  gives for an `unknowns` entry, in the same words.
- `default_key_policy(account, partition)`: the key policy AWS installs when CreateKey
  or ReplicateKey gets none (R7.2): not a stand-in, a fact of deploy time.
"""

from __future__ import annotations

from typing import Any

from kmsprove.ast import Policy, PolicyKind
from kmsprove.errors import Diagnostic, SourcePos
from kmsprove.inputs.unresolved import unsettled_warning
from kmsprove.world import Unresolved


def nobody(kind: PolicyKind, name: str, pos: SourcePos) -> Policy:
    """A document with no statements: it allows nothing and names nobody."""
    return Policy(kind, (), name=name, pos=pos)


def unsettled(reason: str, key: str | None, pos: SourcePos) -> tuple[Unresolved, Diagnostic]:
    """What could not be settled, and its warning (every reader's wording)."""
    item = Unresolved(reason, key, pos)
    return item, unsettled_warning(item)


def default_key_policy(account: str, partition: str = "aws") -> dict[str, Any]:
    """The R7.2 default key policy: the account's root user gets `kms:*`, so IAM
    policies decide for everyone else in the account."""
    return {
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }

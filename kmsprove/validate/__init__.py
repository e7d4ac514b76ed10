"""AST stage, second half: semantic checks on built policies, grants and worlds.

`kmsprove.syntax.policy` reports what is structurally wrong while building; this
module reports what AWS would reject (errors) or accept but almost surely by
mistake (warnings) in a well-formed document:

- `check_policy(Policy) -> [Diagnostic]`: principals, Sids, actions,
  resources, conditions and size, by policy kind;
- `check_grant(Grant) -> [Diagnostic]`: one grant on its own;
- `check_world(World) -> [Diagnostic]`: grants against their key, key
  policies against the key's account, missing documents, buckets' keys, and
  documents that take part in no decision (`root_principal_problems` for a root
  user's entry, which never reaches the `World`).

It reads no files: `kmsprove.inputs` reads them and calls these checks. The checks
live in `principals`, `statements`, `conditions`, `grants` and `world`.
"""

from __future__ import annotations

from kmsprove.ast import Policy, PolicyKind
from kmsprove.errors import Diagnostic, printable
from kmsprove.validate.conditions import condition_problems
from kmsprove.validate.grants import check_grant
from kmsprove.validate.principals import policy_principal_problems, statement_principal_problems
from kmsprove.validate.statements import (
    action_problems,
    rcp_problems,
    resource_problems,
    sid_problems,
    size_problems,
)
from kmsprove.validate.world import check_world, root_principal_problems

__all__ = ["check_grant", "check_policy", "check_world", "root_principal_problems"]


def check_policy(policy: Policy, text: str | None = None) -> list[Diagnostic]:
    """Every semantic problem of one policy, for its kind.

    `text` is the document exactly as AWS stores it, for the size limits; without
    it a compact rendering of the policy is measured (a lower bound).
    """
    out = size_problems(policy, text)
    out.extend(sid_problems(policy))
    out.extend(policy_principal_problems(policy))
    for st in policy.statements:
        out.extend(statement_principal_problems(st, policy.kind))
        out.extend(action_problems(st, policy.kind))
        out.extend(resource_problems(st, policy))
        if policy.kind is PolicyKind.RCP:
            out.extend(rcp_problems(st))
        for c in st.conditions:
            out.extend(condition_problems(c, policy.kind, policy.version))
    return printable(out)

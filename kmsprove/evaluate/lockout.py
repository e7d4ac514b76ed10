"""PutKeyPolicy's own refusals: AWS managed keys (R7.5), invalid new policies and
the lockout safety check (R7.1). Twin: `kmsprove.encode` models PutKeyPolicy
with the same three refusals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from kmsprove import validate
from kmsprove.request import Decision, Request
from kmsprove.world import Key, World


def put_key_policy_refusal(
    world: World, req: Request, key: Key, decide: Callable[[World, Request], Decision]
) -> str | None:
    """Why KMS refuses an authorized PutKeyPolicy, or None; `decide` is the KMS
    procedure, which the lockout check runs again on the new policy."""
    if key.manager == "AWS":
        return "the policy of an AWS managed key cannot be changed (R7.5)"
    new = req.new_policy
    if new is None:
        return None  # the new document is unknown: only authorization is decided
    errors = [d for d in validate.check_policy(new) if d.is_error]
    if errors:
        return f"KMS rejects the new policy: {errors[0].message} (R7.1)"
    if "true" in (req.context.get("kms:BypassPolicyLockoutSafetyCheck") or ()):
        return None
    # the check reads only the new default policy (R7.1) and counts delegation (10.17)
    changed = replace(key, policy=new, ram_policy=None)
    after = replace(world, keys=tuple(changed if k.arn == key.arn else k for k in world.keys))
    again = replace(req, new_policy=None)
    if decide(after, again).allowed:
        return None
    return "the lockout safety check fails: the new policy would not let the caller call PutKeyPolicy again (R7.1)"

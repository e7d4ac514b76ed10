"""Requests IAM alone decides (R3.1): actions on no key, the alias half of alias
operations, and IAM's own actions (the writes `ever` explores). Twin: the identity
layer of `kmsprove.encode.authorize` and the IAM-only pairs of `questions.diff.identity`.
"""

from __future__ import annotations

from dataclasses import replace

from kmsprove.arn import Caller
from kmsprove.ast import Policy
from kmsprove.evaluate.layers import Subject, match_policies
from kmsprove.request import Decision, Layer, LayerResult, Request
from kmsprove.world import World


def decide_iam(world: World, req: Request, caller: Caller, action: str, resource: str) -> Decision:
    """IAM alone decides: actions on no key (CreateKey, ListKeys, GenerateRandom),
    the alias half of alias operations (R3.1), and IAM's own actions. CreateKey with
    tags also needs kms:TagResource (KMS Developer Guide, "Tags in the API")."""
    decision = _decide(world, req, caller, action, resource)
    if decision.allowed and action.lower() == "kms:createkey" and _has_tags(req):
        tag = _decide(world, replace(req, action="kms:TagResource"), caller, "kms:TagResource", "*")
        if not tag.allowed:
            return Decision(
                False,
                decision.layers + tag.layers,
                "CreateKey with tags also needs kms:TagResource, and " + tag.reason,
            )
    return decision


def _has_tags(req: Request) -> bool:
    """The request tags what it creates (`Tags`: aws:TagKeys, aws:RequestTag/*)."""
    return any(k == "aws:tagkeys" or k.startswith("aws:requesttag/") for k in req.context.values)


def _decide(world: World, req: Request, caller: Caller, action: str, resource: str) -> Decision:
    ident = world.identity(req.principal) if not caller.is_service else None
    subj = Subject(
        caller,
        action,
        resource,
        req.context,
        req.federated_from,
        ident is not None and ident.boundary is not None,
    )
    layers = []
    pols: tuple[Policy, ...] = ident.policies if ident else ()
    ip = match_policies(pols, subj)
    layers.append(LayerResult(Layer.IDENTITY, ip.effect, ip.refs()))
    acct = world.account(caller.account or "")
    if acct.scps_apply:
        scp = match_policies(acct.scps, subj)
        layers.append(LayerResult(Layer.SCP, scp.effect, scp.refs()))
        if scp.denied or not scp.allowed:
            return Decision(False, tuple(layers), "the SCPs do not allow it (R1.10)")
    if caller.kind == "root":
        return Decision(
            not ip.denied, tuple(layers), "the root user may call IAM-only actions (R1.4)"
        )
    boundary_ok = (
        ident is None or ident.boundary is None or match_policies((ident.boundary,), subj).allowed
    )
    if ip.denied:
        return Decision(False, tuple(layers), "an explicit Deny in the identity policy (R1.3)")
    if req.session_policy is not None and caller.kind in ("assumed-role", "federated-user"):
        # a session policy caps every identity-based permission, IAM-only ones too (R1.6)
        sp = match_policies((req.session_policy,), subj)
        layers.append(LayerResult(Layer.SESSION, sp.effect, sp.refs()))
        if sp.denied:
            return Decision(False, tuple(layers), "an explicit Deny in the session policy (R1.3)")
        if not sp.allowed:
            return Decision(
                False, tuple(layers), f"the session policy does not allow `{action}` (R1.6)"
            )
    if ip.allowed and boundary_ok:
        return Decision(
            True,
            tuple(layers),
            f"`{action}` is IAM-only and an identity policy allows it (R3.1)",
        )
    return Decision(
        False,
        tuple(layers),
        f"`{action}` is IAM-only and no identity policy allows it (R3.1, R3.3)",
    )

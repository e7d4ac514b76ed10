"""The decision procedure of kms-semantics.md R1.13 for KMS requests, over every layer.

`evaluate_kms(world, request) -> Decision` is total: any request, even one naming an
unknown key or action, gets a decision with a reason, never an exception. Requests
IAM alone decides go to `kmsprove.evaluate.iam`. Twin: `kmsprove.encode.authorize`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from kmsprove.arn import (
    Caller,
    is_service_role,
    parse_caller,
)
from kmsprove.catalog import ActionInfo, action_info
from kmsprove.evaluate.grants import grants_allow, retire_routes, unresolved_notes
from kmsprove.evaluate.iam import decide_iam
from kmsprove.evaluate.keystate import blocked_by, type_forbids
from kmsprove.evaluate.layers import LayerMatch, Subject, key_policy_view, match_policies
from kmsprove.evaluate.lockout import put_key_policy_refusal
from kmsprove.evaluate.naming import naming_refusal, other_accounts_key
from kmsprove.evaluate.replicas import with_replica
from kmsprove.request import Decision, Layer, LayerResult, Request, StatementRef, Via, as_session
from kmsprove.world import Identity, Key, World


def evaluate_kms(world: World, req: Request) -> Decision:
    """Allow or deny one KMS (or IAM) request, with the reasons per layer (R1.13)."""
    info = action_info(req.action)
    iam = req.action.lower().startswith("iam:")
    if info is None and not iam:
        return Decision(False, reason=f"`{req.action}` is not an action kmsprove knows")
    caller = parse_caller(req.principal)
    if caller.kind == "role":
        # a role is not a caller; its sessions are (R1.2): decide for one of them
        session, note = as_session(req)
        decision = evaluate_kms(world, session)
        return replace(decision, warnings=(note or "", *decision.warnings))
    if caller.kind == "unknown":
        return Decision(False, reason=f"`{req.principal}`: not a caller ARN (R1.2)")
    if info is None:
        # the IAM writes `ever` explores (issue 5): identity policies, SCPs and boundaries
        return decide_iam(world, req, caller, req.action, req.resource or "*")
    if not info.on_key:
        other = other_accounts_key(req, caller)
        if other is not None:
            return Decision(
                False,
                reason=f"`{info.name}` acts on the caller's own account: it does not reach"
                f" account {other}'s key (cross-account use: no, R3.2)",
            )
        return decide_iam(world, req, caller, info.name, "*")
    if info.resource == "alias+key" and req.key is None and ":alias/" in (req.resource or ""):
        # the alias half of an alias operation: IAM policies only (R3.1, R3.3)
        return decide_iam(world, req, caller, info.name, req.resource or "")
    key = world.find_key(req.key or "")
    if key is None:
        return Decision(
            False,
            reason=f"no key `{req.key}` in the world: KMS finds no such key for this caller (R3.2)",
        )
    decision = _Kms(world, req, caller, info, key).decide()
    if decision.allowed and info.short == "UpdatePrimaryRegion":
        return with_replica(
            world, req, key, decision, lambda r, k: _Kms(world, r, caller, info, k).decide()
        )
    return decision


@dataclass
class _Caps:
    """The caller's identity side: IP, boundary, session policy (R1.6, R1.7b)."""

    ip: LayerMatch
    pb: LayerMatch | None
    sp: LayerMatch | None

    @property
    def pb_ok(self) -> bool:
        return self.pb is None or self.pb.allowed

    @property
    def sp_ok(self) -> bool:
        return self.sp is None or self.sp.allowed

    @property
    def id_ok(self) -> bool:
        return self.ip.allowed and self.pb_ok and self.sp_ok


@dataclass
class _Kms:
    world: World
    req: Request
    caller: Caller
    info: ActionInfo
    key: Key
    layers: list[LayerResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    # -- the caller's side ---------------------------------------------

    def identity(self) -> Identity | None:
        if self.caller.is_service or self.caller.kind == "root":
            return None  # no identity policies (R1.4, R2.7)
        if self.caller.kind == "federated-user":
            return self.world.identity(self.req.federated_from) if self.req.federated_from else None
        return self.world.identity(self.req.principal)

    def subject(self, resource: str, kp: bool = False) -> Subject:
        ident = self.identity()
        ctx = key_policy_view(self.req.context) if kp else self.req.context
        return Subject(
            self.caller,
            self.info.name,
            resource,
            ctx,
            self.req.federated_from,
            has_boundary=ident is not None and ident.boundary is not None,
        )

    def caps(self) -> _Caps:
        ident = self.identity()
        subj = self.subject(self.key.arn)
        ip = match_policies(ident.policies if ident else (), subj)
        pb = match_policies((ident.boundary,), subj) if ident and ident.boundary else None
        sp = None
        if self.req.session_policy is not None and self.caller.kind in (
            "assumed-role",
            "federated-user",
        ):
            sp = match_policies((self.req.session_policy,), subj)
        self.report(Layer.IDENTITY, ip, "" if ident else self.no_identity_note())
        if pb is not None:
            self.report(Layer.BOUNDARY, pb)
        if sp is not None:
            self.report(Layer.SESSION, sp)
        return _Caps(ip, pb, sp)

    def no_identity_note(self) -> str:
        if self.caller.is_service:
            return "service principals have no identity policies (R2.7)"
        if self.caller.kind == "root":
            return "the root user carries no identity policies (R1.4)"
        return "the world lists no identity policies for this caller"

    def service_linked(self) -> bool:
        """A service-linked role (path /aws-service-role/): SCPs and RCPs do not bind it (R1.10).
        Only a role the world lists can be known to be one; a name proves nothing. A
        session of a role AWS owns (`aws:ec2-infrastructure`) is treated alike
        (docs/choices.md)."""
        if self.caller.kind == "assumed-role" and is_service_role(self.caller.name):
            return True
        ident = self.identity()
        return ident is not None and "/aws-service-role/" in ident.arn

    # -- reporting -------------------------------------------------------

    def report(self, layer: Layer, m: LayerMatch, note: str = "") -> None:
        self.layers.append(LayerResult(layer, m.effect, m.refs(), note))

    def finish(self, allowed: bool, reason: str, unresolved: bool = False) -> Decision:
        """The decision; `unresolved`: a deny a grant could turn into an allow were its
        unique id resolved to the caller, so the deny is unknown and says which grant."""
        unknown = None
        if unresolved and not allowed:
            ident = self.identity()
            notes = unresolved_notes(self.key, self.info, self.caller, ident, self.req.grant_id)
            unknown = "; ".join(notes) or None
        if allowed:
            refused = self.refusal()
            if refused:
                return Decision(False, tuple(self.layers), refused, None, tuple(self.warnings))
        block = blocked_by(self.key, self.info.short) if allowed else None
        return Decision(allowed, tuple(self.layers), reason, block, tuple(self.warnings), unknown)

    def refusal(self) -> str | None:
        """Why KMS refuses an authorized call for good (key type, lockout check)."""
        ops = (
            self.req.context.get("kms:GrantOperations")
            if self.info.short == "CreateGrant"
            else None
        )
        forbid = type_forbids(self.key, self.info.short, ops or ())
        if forbid:
            return forbid
        constrained = self.req.context.has("kms:GrantConstraintType")
        if (
            self.info.short == "CreateGrant"
            and constrained
            and not self.key.is_symmetric_encryption
        ):
            return (
                "an encryption-context grant constraint is valid only on a symmetric"
                f" encryption key, not a {self.key.key_spec}/{self.key.key_usage} key (R4.5)"
            )
        if self.info.short == "PutKeyPolicy":
            return put_key_policy_refusal(self.world, self.req, self.key, evaluate_kms)
        return None

    # -- guardrails --------------------------------------------------------

    def guardrails(self) -> str | None:
        """SCP, RCP and VPC endpoint policy (R1.10): why they block, or None."""
        subj = self.subject(self.key.arn)
        if not self.caller.is_service and not self.service_linked():
            acct = self.world.account(self.caller.account or "")
            if acct.scps_apply:
                m = match_policies(acct.scps, subj)
                self.report(Layer.SCP, m, f"SCPs of account {acct.id}")
                if m.denied:
                    return "an SCP denies it (R1.3)"
                if not m.allowed:
                    return "the SCPs give no Allow path (R1.10)"
            key_acct = self.world.account(self.key.account)
            retire = self.info.short == "RetireGrant"  # RCPs cannot restrict it (R1.10)
            rcp_applies = self.key.manager == "CUSTOMER" and key_acct.rcps_apply
            if rcp_applies and not retire:
                m = match_policies(key_acct.rcps, subj)
                self.report(Layer.RCP, m, f"RCPs of account {key_acct.id}")
                if m.denied:
                    return "an RCP denies it (R1.3)"
        if self.req.via_vpce is not None:
            policy = self.world.vpc_endpoints.get(self.req.via_vpce)
            if policy is not None:
                m = match_policies((policy,), subj)
                self.report(Layer.VPCE, m, f"endpoint {self.req.via_vpce}")
                if m.denied:
                    return "the VPC endpoint policy denies it (R1.3)"
                if not m.allowed:
                    return "the VPC endpoint policy does not allow it (R1.10)"
        return None

    # -- the procedure -----------------------------------------------------

    def decide(self) -> Decision:
        cross = not self.caller.is_service and self.caller.account != self.key.account
        if cross and not self.info.cross_account:
            return self.finish(False, f"`{self.info.name}` cannot be used across accounts (R3.2)")
        named = naming_refusal(self.req, self.info, self.key, self.caller, cross)
        if named is not None:
            return self.finish(False, named)
        if cross and not self.world.account(self.caller.account or "").region_enabled(
            self.key.region
        ):
            return self.finish(
                False, f"account {self.caller.account} has not enabled {self.key.region} (R1.8)"
            )
        blocked = self.guardrails()
        if self.info.short == "RetireGrant":
            return self.retire(blocked)
        kp = match_policies(self.key.policies, self.subject(self.key.arn, kp=True))
        self.report(Layer.KEY_POLICY, kp)
        caps = self.caps()
        granted, grefs, others = grants_allow(self.key, self.caller, self.info, self.req.context)
        note = f"{others} grant(s) for other grantees" if others else ""
        self.layers.append(
            LayerResult(Layer.GRANTS, "allow" if granted else "none", tuple(grefs), note)
        )
        if blocked:
            return self.finish(False, blocked)
        for layer, m in (
            (Layer.KEY_POLICY, kp),
            (Layer.IDENTITY, caps.ip),
            (Layer.BOUNDARY, caps.pb),
            (Layer.SESSION, caps.sp),
        ):
            if m is not None and m.denied:
                return self.finish(False, f"an explicit Deny in the {layer.value} (R1.3)")
        ok, why = self.policies_allow(kp, caps, cross)
        if ok:
            return self.finish(True, why)
        if granted:
            return self.finish(True, "a grant allows it (R1.9)")
        return self.finish(False, why, unresolved=True)

    def policies_allow(self, kp: LayerMatch, caps: _Caps, cross: bool) -> tuple[bool, str]:
        vias = kp.vias()
        direct = vias - {Via.ACCOUNT}
        root = self.caller.kind == "root"
        if self.caller.is_service:
            if direct:
                return True, "the key policy allows the service principal (R2.7)"
            return False, "no key policy statement allows the service principal (R2.7)"
        if cross:
            if not vias:
                return False, "the key policy does not allow this external caller (R1.7a)"
            if root:
                return (
                    True,
                    "the key policy allows the external account; its root user needs no IAM policy (10.16)",
                )
            if caps.id_ok:
                return True, "the key policy and the caller's identity side both allow it (R1.7)"
            return False, self.identity_gap(
                caps, "the caller's own account must also allow it (R1.7b)"
            )
        for via in direct:
            if self.direct_allows(via, caps):
                return True, f"the key policy names the caller ({via.value}) (R1.5, R1.6)"
        if Via.ACCOUNT in vias:
            if root:
                return (
                    True,
                    "the key policy allows the account, which includes its root user (R1.4)",
                )
            if caps.id_ok:
                return (
                    True,
                    "the key policy delegates to the account and an IAM policy allows it (R1.4)",
                )
            return False, self.identity_gap(
                caps, "the key policy delegates to the account, but (R1.4)"
            )
        if direct:
            return (
                False,
                "a key policy Allow names the caller, but a boundary or session policy caps it (R1.6)",
            )
        if caps.ip.allowed:
            return (
                False,
                "an IAM policy allows it, but the key policy neither names the caller nor delegates to its account (R1.4, R1.5)",
            )
        return False, "no key policy statement allows it (R1.1)"

    def direct_allows(self, via: Via, caps: _Caps) -> bool:
        """The caps of R1.6 on a same-account key-policy allow."""
        if via in (Via.ROLE, Via.FEDERATED_USER):
            return caps.pb_ok and caps.sp_ok
        if via is Via.WILDCARD:
            self.warnings.append(
                "plain `*` allows are not capped by boundaries or session policies (10.5)"
            )
        return True

    def identity_gap(self, caps: _Caps, lead: str) -> str:
        if not caps.ip.allowed:
            return f"{lead}: no identity policy allows it"
        if not caps.pb_ok:
            return f"{lead}: the permissions boundary does not allow it"
        return f"{lead}: the session policy does not allow it"

    def retire(self, blocked: str | None) -> Decision:
        """RetireGrant is decided by the grant (R4.7); IAM denies still apply."""
        grant = next((g for g in self.key.grants if g.grant_id == self.req.grant_id), None)
        caps = self.caps()
        if self.req.grant_id is None:
            return self.finish(
                False, "the request names no grant: give its GrantId (`--grant-id`) (R4.7)"
            )
        if grant is None:
            return self.finish(False, f"no grant `{self.req.grant_id}` on this key (R4.7)")
        if blocked:
            return self.finish(False, blocked)
        for layer, m in (
            (Layer.IDENTITY, caps.ip),
            (Layer.BOUNDARY, caps.pb),
            (Layer.SESSION, caps.sp),
        ):
            if m is not None and m.denied:
                return self.finish(False, f"an explicit Deny in the {layer.value} (R1.3)")
        direct, via_iam = retire_routes(grant, self.key, self.caller)
        ref = StatementRef.at(
            grant.grant_id,
            grant.pos,
            bool(direct or via_iam),
            "Allow",
            "; ".join(direct + via_iam) or "the caller may not retire it",
        )
        self.layers.append(LayerResult(Layer.GRANTS, "allow" if direct else "none", (ref,)))
        if direct:
            return self.finish(True, f"the caller is {direct[0]} (R4.7)")
        if via_iam and caps.id_ok:
            return self.finish(
                True,
                f"an IAM policy allows kms:RetireGrant and the caller is in {via_iam[0]} (R4.7)",
            )
        if via_iam:
            return self.finish(
                False,
                f"the caller is in {via_iam[0]}, but no IAM policy allows kms:RetireGrant (R4.7)",
                unresolved=True,
            )
        return self.finish(
            False,
            "the caller is not a retiring principal, a retiring grantee, nor in the issuing or key account (R4.7)",
            unresolved=True,
        )

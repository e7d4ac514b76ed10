"""Explain's request, from a request file or from command-line flags -> `Request`.

The request file (JSON): `{"principal", "action", "key" | "resource", "context": {KEY:
string or list}}` plus the optional `session_policy` (a document), `via_vpce`,
`grant_id`, `key_id_as_sent`, `federated_from` and `api_params` (`{"Policy": ...}`: the
new policy of a PutKeyPolicy). The request is read as given; `questions.explain` adds
the context AWS derives (`evaluate.context.complete_request`), at the returned position.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from kmsprove.arn import parse_arn, parse_caller
from kmsprove.ast import Policy, PolicyKind
from kmsprove.catalog import action_info, canonical_action
from kmsprove.errors import Diagnostic, InputError, SourcePos, error
from kmsprove.inputs.documents import read_document, unwrap_policy
from kmsprove.inputs.files import parse_file
from kmsprove.request import Context, Request, as_session
from kmsprove.syntax.policy import build_policy
from kmsprove.syntax.tree import JArray, JBool, JNode, JNumber, JObject, JString, kind_name
from kmsprove.world import World

REQUEST_FIELDS = (
    "principal",
    "action",
    "key",
    "resource",
    "context",
    "session_policy",
    "via_vpce",
    "grant_id",
    "key_id_as_sent",
    "federated_from",
    "grant_tokens",
    "api_params",
)
UNSIGNED = ("anonymous", "*")  # an unsigned caller: always denied (R1.2)
CLI = SourcePos("<cli>", 1, 1)


def _check_target(world: World, req: Request, where: SourcePos) -> Request:
    """Resolve the key reference; reject what cannot be a request."""
    caller = parse_caller(req.principal)
    problems = []
    if req.principal in UNSIGNED:
        pass
    elif caller.kind == "unknown":
        problems.append(
            f"`{req.principal}` is not a caller: give a user, assumed-role session, federated user, root or service principal"
        )
    elif caller.kind == "role":
        # a role ARN as the caller means one of its sessions (AWS's policy simulator
        # and pmapper take role ARNs too); say which one
        req, note = as_session(req)
        req = replace(req, notes=(*req.notes, note or ""))
    is_s3 = req.action.lower().startswith("s3:")
    info = action_info(req.action)
    if not is_s3 and info is None:
        problems.append(f"unknown action `{req.action}`")
    if is_s3:
        if req.resource is None:
            problems.append(f"`{req.action}` needs a resource: the S3 object ARN")
        elif world.bucket(req.resource) is None:
            problems.append(f"no bucket in the world holds `{req.resource}`")
    elif (
        info is not None
        and info.resource == "alias+key"
        and req.key is None
        and ":alias/" in (req.resource or "")
    ):
        pass  # the alias half of an alias operation
    elif info is not None and info.on_key:
        if req.key is None:
            if len(world.keys) == 1:
                req = replace(req, key=world.keys[0].arn)
            else:
                problems.append(f"`{req.action}` needs a key: give its ARN, id or alias")
        if req.key is not None:
            key = world.find_key(req.key)
            if key is None and not _is_arn_of_key_or_alias(req.key):
                problems.append(
                    f"no key `{req.key}` in the world (name keys of other accounts by ARN)"
                )
            elif key is not None:
                sent = req.key_id_as_sent or (req.key if req.key != key.arn else None)
                req = replace(req, key=key.arn, key_id_as_sent=sent)
    given = req.context.get("kms:GrantId")
    if given and req.grant_id is None:
        req = replace(req, grant_id=given[0])  # the grant the request names, as a context key
    elif given and req.grant_id not in given:
        problems.append(f"`kms:GrantId` `{given[0]}` is not the grant id `{req.grant_id}`")
    if problems:
        raise InputError([error(where, p) for p in problems])
    return replace(req, action=canonical_action(req.action))


def _is_arn_of_key_or_alias(ref: str) -> bool:
    """A well-formed key or alias ARN: a key the world lacks is a deny, not an error."""
    a = parse_arn(ref)
    return a is not None and a.service == "kms" and a.resource.startswith(("key/", "alias/"))


def request_from_cli(
    world: World,
    principal: str | None,
    action: str | None,
    key: str | None,
    resource: str | None,
    context: tuple[str, ...],
    grant_id: str | None = None,
    via_vpce: str | None = None,
) -> tuple[Request, SourcePos]:
    """The request the flags describe, and where to report its problems (`<cli>`)."""
    if not principal or not action:
        raise InputError.at_cli("give --request FILE, or --principal and --action")
    pairs: dict[str, list[str]] = {}
    for item in context:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise InputError.at_cli(f"--context `{item}` is not KEY=VALUE")
        pairs.setdefault(name, []).append(value)
    ctx = Context.of({k: v[0] if len(v) == 1 else v for k, v in pairs.items()})
    req = Request(principal, action, key, resource, ctx, grant_id=grant_id, via_vpce=via_vpce)
    return _check_target(world, req, CLI), CLI


def _string(node: JNode | None, name: str, problems: list[Diagnostic]) -> str | None:
    if node is None:
        return None
    if isinstance(node, JString):
        return node.value
    problems.append(error(node.pos, f"`{name}` must be a string, not {kind_name(node)}"))
    return None


def request_from_file(world: World, path: str) -> tuple[Request, SourcePos]:
    """The request a request file holds, and its position; bad input raises `InputError`."""
    root = parse_file(Path(path), path)
    req, problems = parse_request(root, path)
    if problems:
        raise InputError(problems)
    assert isinstance(root, JObject)
    return _check_target(world, req, root.pos), root.pos


def parse_request(root: JNode, path: str) -> tuple[Request, list[Diagnostic]]:
    """The request a request document holds as written (no world: its key unresolved),
    and what is structurally wrong with it."""
    if not isinstance(root, JObject):
        msg = f"a request must be a JSON object, not {kind_name(root)}"
        return Request("", ""), [error(root.pos, msg)]
    problems: list[Diagnostic] = []
    problems.extend(
        error(m.key_pos, f"unknown request field `{m.key}`")
        for m in root.members
        if m.key not in REQUEST_FIELDS
    )
    vals = {
        f: _string(root.get(f), f, problems)
        for f in REQUEST_FIELDS
        if f not in ("context", "session_policy", "grant_tokens", "api_params")
    }
    problems.extend(
        error(root.pos, f"request has no `{need}`")
        for need in ("principal", "action")
        if vals.get(need) is None and root.get(need) is None
    )
    ctx = _context(root.get("context"), problems)
    session = None
    session_node = root.get("session_policy")
    if session_node is not None:
        session, diags = read_document(session_node, PolicyKind.SESSION, f"{path}#session_policy")
        problems.extend(d for d in diags if d.is_error)
    new_policy = _new_policy(root.get("api_params"), path, problems)
    req = Request(
        principal=vals["principal"] or "",
        action=vals["action"] or "",
        key=vals.get("key"),
        resource=vals.get("resource"),
        context=ctx,
        session_policy=session,
        via_vpce=vals.get("via_vpce"),
        grant_id=vals.get("grant_id"),
        key_id_as_sent=vals.get("key_id_as_sent"),
        federated_from=vals.get("federated_from"),
        new_policy=new_policy,
    )
    return req, problems


def _new_policy(node: JNode | None, path: str, problems: list[Diagnostic]) -> Policy | None:
    """`api_params.Policy` of a PutKeyPolicy request: a document or its JSON text."""
    if node is None:
        return None
    if not isinstance(node, JObject):
        problems.append(error(node.pos, f"`api_params` must be an object, not {kind_name(node)}"))
        return None
    doc = node.get("Policy")
    if doc is None:
        return None
    # only the document's structure is an input error: a policy KMS would reject is
    # the PutKeyPolicy's refusal (R7.1), which the evaluator reports
    diags: list[Diagnostic] = []
    inner = unwrap_policy(doc, PolicyKind.KEY_POLICY, diags)
    if inner is not None:
        policy, built = build_policy(inner[0], PolicyKind.KEY_POLICY, f"{path}#Policy")
        diags.extend(built)
    problems.extend(d for d in diags if d.is_error)
    return policy if inner is not None and not diags else None


def _text(node: JNode) -> str:
    if isinstance(node, JBool):
        return "true" if node.value else "false"
    return str(node.value)  # type: ignore[attr-defined]


def _context(node: JNode | None, problems: list[Diagnostic]) -> Context:
    if node is None:
        return Context()
    if not isinstance(node, JObject):
        problems.append(error(node.pos, f"`context` must be an object, not {kind_name(node)}"))
        return Context()
    pairs: dict[str, str | list[str]] = {}
    for m in node.members:
        v = m.value
        if isinstance(v, (JString, JBool, JNumber)):
            pairs[m.key] = _text(v)
        elif isinstance(v, JArray) and all(
            isinstance(i, (JString, JBool, JNumber)) for i in v.items
        ):
            pairs[m.key] = [_text(i) for i in v.items]
        else:
            problems.append(
                error(v.pos, f"context `{m.key}` must be a string or a list of strings")
            )
    return Context.of(pairs)

"""The real policy pairs of bench/data/diff (AWS documentation's key policies and
identity policies, each with a realistic edit; provenance in its README.md), through
the CLI as a user runs them:

- each pair gives the relation `pairs.json` expects, decided by reading the two
  documents against kms-semantics.md (its `why`), not from kmsprove's output;
- every witness is allowed by the side it says and denied by the other, decided here
  by the evaluator in worlds this file builds from the two documents (a key policy on
  its key, every account open; an identity policy held by the caller, under a key
  policy that lets IAM decide), with the identity policy the answer says it assumed;
- every `reproduce:` and `denied by the other side:` line the text prints runs as
  printed: the first gives ALLOW, the second DENY.

Timing is the benchmark's business (bench/diff_bench.py), not this file's.
"""

from __future__ import annotations

import json
import shlex
import types
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kmsprove.ast import PolicyKind
from kmsprove.cli import main
from kmsprove.evaluate import evaluate
from kmsprove.evaluate.context import complete_request
from kmsprove.inputs.documents import policy_from_value
from kmsprove.inputs.world_file import load_world_json
from kmsprove.request import Context, Request
from kmsprove.world import Account, Identity, World

DATA = Path(__file__).resolve().parents[3] / "bench" / "data" / "diff"
PAIRS = json.loads((DATA / "pairs.json").read_text())
FOUND = {"new_access": ("new", "old"), "removed_access": ("old", "new")}  # allows, denies


def _cli(*args: str) -> Any:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output, result.output
    return result


def _request(w: dict[str, Any]) -> Request:
    return Request(
        w["principal"],
        w["action"],
        key=w["key"],
        resource=w.get("resource"),
        context=Context.of(w["context"]),
        grant_id=w.get("grant_id"),
        via_vpce=w.get("via_vpce"),
        federated_from=w.get("federated_from"),
    )


def _holder(principal: str) -> str:
    """The IAM identity behind a caller: a session's role, else the caller."""
    if ":assumed-role/" in principal:
        acct = principal.split(":")[4]
        return f"arn:aws:iam::{acct}:role/{principal.split('/')[1]}"
    return principal


def _with_identity(world: World, arn: str, doc: dict[str, Any], tags: Any = ()) -> World:
    policy = policy_from_value(doc, PolicyKind.IDENTITY, "<corpus>")
    acct = arn.split(":")[4]
    account = world.accounts.get(acct) or Account(acct)
    principals = {**account.principals, arn: Identity(arn=arn, policies=(policy,), tags=tags)}
    account = Account(acct, complete=False, principals=types.MappingProxyType(principals))
    return World(
        keys=world.keys,
        accounts=types.MappingProxyType({**world.accounts, acct: account}),
        file=world.file,
    )


def _key_policy_world(doc: dict[str, Any], req: Request, assumed: list[str]) -> World:
    world = load_world_json({"version": 1, "keys": [{"arn": req.key, "policy": doc}]})
    for note in assumed:  # "ARN: an identity policy allowing ACTION on KEY (...)", or none
        arn, text = note.split(": ", 1)
        allow = {"Effect": "Allow", "Action": req.action, "Resource": req.key}
        if text.startswith(f"no identity policy allowing {req.action} on "):
            allow = {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}
        else:
            assert text.startswith(f"an identity policy allowing {req.action} on "), text
        world = _with_identity(world, arn, {"Version": "2012-10-17", "Statement": [allow]})
    return world


def _identity_world(doc: dict[str, Any], req: Request) -> World:
    """The caller holds `doc`, its only identity policy; the key (if any) carries the
    tags the request shows, under a key policy that lets IAM decide."""
    keys = []
    tags = tuple(
        (name.split("/", 1)[1], v)
        for name, v in req.context.as_json().items()
        if name.lower().startswith("aws:resourcetag/") and isinstance(v, str)
    )
    if req.key:
        acct = req.key.split(":")[4]
        decide = [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{acct}:root"}},
            {
                "Effect": "Allow",
                "Principal": "*",
                "Condition": {"StringNotEquals": {"kms:CallerAccount": acct}},
            },
        ]
        policy = {"Version": "2012-10-17", "Statement": []}
        policy["Statement"] = [{**s, "Action": "kms:*", "Resource": "*"} for s in decide]
        keys.append({"arn": req.key, "policy": policy, "tags": dict(tags)})
    world = load_world_json({"version": 1, "keys": keys})
    ptags = tuple(
        (name.split("/", 1)[1], v)
        for name, v in req.context.as_json().items()
        if name.lower().startswith("aws:principaltag/") and isinstance(v, str)
    )
    return _with_identity(world, _holder(req.federated_from or req.principal), doc, ptags)


def _allowed(kind: str, doc: dict[str, Any], w: dict[str, Any], assumed: list[str]) -> bool:
    req = _request(w)
    if kind == "key-policy":
        world = _key_policy_world(doc, req, assumed)
    else:
        world = _identity_world(doc, req)
    return evaluate(world, complete_request(world, req)).allowed


@pytest.mark.parametrize("pair", PAIRS, ids=[p["name"] for p in PAIRS])
def test_corpus_pair(pair: dict[str, Any]) -> None:
    d = DATA / pair["name"]
    paths = {"old": str(d / "old.json"), "new": str(d / "new.json")}
    docs = {side: json.loads(Path(p).read_text()) for side, p in paths.items()}
    result = _cli("diff", paths["old"], paths["new"], "--format", "json")
    out = json.loads(result.stdout)
    assert (out["relation"], out["kind"]) == (pair["expected"], pair["kind"]), (
        pair["why"],
        out["directions"],
    )
    assert result.exit_code == (1 if out["new_access"] else 0)
    for direction, (allows, denies) in FOUND.items():
        w = out[direction]
        if w is None:
            assert out["directions"][direction]["status"] == "none"
            continue
        # what was assumed about callers (a key's tags are in the request's context);
        # in an identity-policy diff the caller holds each side's policy in turn
        assumed = [
            a
            for a in out["directions"][direction]["assumed"]
            if pair["kind"] == "key-policy" and ":kms:" not in a.split(": ", 1)[0]
        ]
        assert _allowed(pair["kind"], docs[allows], w, assumed), (direction, w)
        assert not _allowed(pair["kind"], docs[denies], w, assumed), (direction, w)


KEY_POLICY_PAIRS = [p for p in PAIRS if p["kind"] == "key-policy"]


@pytest.mark.parametrize("pair", KEY_POLICY_PAIRS, ids=[p["name"] for p in KEY_POLICY_PAIRS])
def test_corpus_reproduce_lines_run_as_printed(pair: dict[str, Any]) -> None:
    d = DATA / pair["name"]
    text = _cli("diff", str(d / "old.json"), str(d / "new.json")).output
    for prefix, decision in (("  reproduce: ", "allow"), ("  denied by the other side: ", "deny")):
        for line in text.splitlines():
            if line.startswith(prefix):
                args = shlex.split(line[len(prefix) :])
                assert args[:2] == ["kmsprove", "explain"], line
                ran = _cli(*args[1:], "--format", "json")
                assert ran.exit_code == 0, ran.output
                assert json.loads(ran.stdout)["decision"] == decision, line
    # each direction found shows how to reproduce it, or says why it cannot
    found = text.count("\n  NEW allows it: ") + text.count("\n  OLD allows it: ")
    shown = text.count("\n  reproduce: ") + text.count("\n  witness: it rests on")
    assert found == shown, text

"""`kmsprove diff` through the CLI: the relation and its exit code (0 no new access,
1 new access, 2 bad input, 3 unknown), the JSON shape of DESIGN.md, witnesses the
evaluator confirms, and positioned errors (`--who` with `ever` among them)."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from kmsprove.answer import FindingStatus
from kmsprove.cli import main
from kmsprove.evaluate import evaluate
from kmsprove.evaluate.context import complete_request
from kmsprove.inputs import load_world
from kmsprove.questions.diff import diff_files, load_side, place_key_policy
from kmsprove.request import Context, Request
from tests.support.cli import listing

A, B = "111122223333", "444455556666"
ROOT = Path(__file__).resolve().parents[2]
KEY = f"arn:aws:kms:us-east-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ADMIN = {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"}}
REQUEST_FIELDS = {"principal", "action", "key", "context"}


def kp(*partner_actions: str, extra: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A key policy: the key account administers, partner B may use `partner_actions`."""
    sts = [{**ADMIN, "Action": "kms:*", "Resource": "*"}]
    if partner_actions:
        sts.append(
            {
                "Sid": "Partner",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
                "Action": list(partner_actions),
                "Resource": "*",
            }
        )
    return {"Version": "2012-10-17", "Statement": sts + (extra or [])}


def ip(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def write(tmp: Path, name: str, doc: Any) -> str:
    p = tmp / name
    p.write_text(doc if isinstance(doc, str) else json.dumps(doc, indent=2))
    return str(p)


def run(tmp: Path, *args: str) -> tuple[int, dict[str, Any], Result]:
    """Invoke the real CLI with JSON output; never a traceback, never a file written."""
    before = listing(tmp)
    result = CliRunner().invoke(main, ["diff", *args, "--format", "json"])
    assert listing(tmp) == before, "diff wrote into the directory"
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    out = json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}
    return result.exit_code, out, result


def test_gaining_an_action_is_more_permissive_and_exits_1(tmp_path: Path) -> None:
    old = write(tmp_path, "old.json", kp("kms:Decrypt"))
    new = write(tmp_path, "new.json", kp("kms:Decrypt", "kms:Encrypt"))
    code, out, _ = run(tmp_path, old, new)
    assert code == 1
    assert out["relation"] == "more-permissive"
    assert out["kind"] == "key-policy"
    assert set(out["new_access"]) >= REQUEST_FIELDS
    assert out["new_access"]["action"] == "kms:Encrypt"
    assert out["new_access"]["key"] == KEY
    assert f":{B}:" in out["new_access"]["principal"]
    assert out["removed_access"] is None
    assert out["directions"]["removed_access"]["status"] == "none"


def test_losing_an_action_is_less_permissive_and_exits_0(tmp_path: Path) -> None:
    old = write(tmp_path, "old.json", kp("kms:Decrypt", "kms:Encrypt"))
    new = write(tmp_path, "new.json", kp("kms:Decrypt"))
    code, out, _ = run(tmp_path, old, new)
    assert code == 0
    assert out["relation"] == "less-permissive"
    assert out["new_access"] is None
    assert out["removed_access"]["action"] == "kms:Encrypt"


def test_each_side_allowing_something_is_incomparable_and_exits_1(tmp_path: Path) -> None:
    old = write(tmp_path, "old.json", kp("kms:Decrypt"))
    new = write(tmp_path, "new.json", kp("kms:Encrypt"))
    code, out, _ = run(tmp_path, old, new)
    assert (code, out["relation"]) == (1, "incomparable")
    assert out["new_access"]["action"] == "kms:Encrypt"
    assert out["removed_access"]["action"] == "kms:Decrypt"


def test_reordered_and_expanded_statements_are_equivalent(tmp_path: Path) -> None:
    doc = kp("kms:ReEncrypt*", "kms:Decrypt")
    rewritten = kp("kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo")
    rewritten["Statement"].reverse()
    old, new = write(tmp_path, "old.json", doc), write(tmp_path, "new.json", rewritten)
    code, out, _ = run(tmp_path, old, new)
    assert (code, out["relation"]) == (0, "equivalent")
    assert out["new_access"] is None and out["removed_access"] is None


def test_every_witness_is_allowed_by_exactly_one_side(tmp_path: Path) -> None:
    old = write(tmp_path, "old.json", kp("kms:Decrypt"))
    new = write(tmp_path, "new.json", kp("kms:Encrypt"))
    result = diff_files(old, new, None, "anyone", 30)
    from kmsprove.solve.decode import witness_world

    worlds = [place_key_policy(load_side(p, "key-policy")) for p in (old, new)]  # type: ignore[arg-type]
    for f, gain, lose in (
        (result.new_access, worlds[1], worlds[0]),
        (result.removed_access, worlds[0], worlds[1]),
    ):
        assert f.status is FindingStatus.FOUND and f.request is not None
        decisions = []
        for w in (gain, lose):
            w = witness_world(w, f.request, f.assumed)
            decisions.append(evaluate(w, complete_request(w, f.request)).allowed)
        assert decisions == [True, False]


def test_naming_a_role_is_more_than_delegating_to_iam(tmp_path: Path) -> None:
    """A key policy statement naming a role of the key's account allows it with no
    identity policy (R1.5); the account principal lets IAM decide (R1.4). The role's
    identity policy is the same unknown document on both sides: once "it allows
    everything" was assumed on each side, which made the two equivalent."""
    role = f"arn:aws:iam::{A}:role/App"
    direct = {"Effect": "Allow", "Principal": {"AWS": role}, "Action": "kms:Decrypt"}
    old = write(tmp_path, "old.json", kp())
    new = write(tmp_path, "new.json", kp(extra=[{**direct, "Resource": "*"}]))
    code, out, _ = run(tmp_path, old, new)
    assert (code, out["relation"]) == (1, "more-permissive")
    w = out["new_access"]
    assert (w["principal"].split("/")[:2], w["action"]) == (
        [f"arn:aws:sts::{A}:assumed-role", "App"],
        "kms:Decrypt",
    )
    # the role holds no identity policy allowing it: nothing is assumed about it
    assert out["directions"]["new_access"]["assumed"] == []
    request = Request(w["principal"], w["action"], key=w["key"], context=Context.of(w["context"]))
    for path, allowed in ((new, True), (old, False)):
        world = place_key_policy(load_side(path, "key-policy"))  # type: ignore[arg-type]
        assert evaluate(world, complete_request(world, request)).allowed is allowed
    # the other way round: removing the statement takes the role's direct use away
    code, out, _ = run(tmp_path, new, old)
    assert (code, out["relation"]) == (0, "less-permissive")


def test_a_named_role_with_a_path_holding_no_identity_policy(tmp_path: Path) -> None:
    """The witness's role holds no identity policy, and its path (role/team/app) is
    only known from the policy: the re-check's world lists the role with no policy,
    else the evaluator derives aws:PrincipalArn without the path and disagrees."""
    role = f"arn:aws:iam::{A}:role/team/app"
    direct = {"Effect": "Allow", "Principal": {"AWS": role}, "Action": "kms:Decrypt"}
    old = write(tmp_path, "old.json", kp(extra=[{**direct, "Resource": "*"}]))
    new = write(tmp_path, "new.json", kp())
    code, out, _ = run(tmp_path, old, new)
    assert (code, out["relation"]) == (0, "less-permissive"), out["directions"]
    w = out["removed_access"]
    assert w["principal"].startswith(f"arn:aws:sts::{A}:assumed-role/app/")
    assert w["context"]["aws:PrincipalArn"] == role
    [assumed] = out["directions"]["removed_access"]["assumed"]
    assert assumed.startswith(f"{role}: no identity policy allowing kms:Decrypt on ")


def test_who_restricts_the_callers_compared(tmp_path: Path) -> None:
    c = "777788889999"
    app = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{c}:role/App"},
        "Action": "kms:Decrypt",
        "Resource": "*",
    }
    old = write(tmp_path, "old.json", kp("kms:Decrypt"))
    new = write(tmp_path, "new.json", kp("kms:Decrypt", extra=[app]))
    code, out, _ = run(tmp_path, old, new)
    assert (code, out["relation"]) == (1, "more-permissive")
    assert out["new_access"]["principal"].startswith(f"arn:aws:sts::{c}:assumed-role/App/")
    code, out, _ = run(tmp_path, old, new, "--who", f"any principal outside account {c}")
    assert (code, out["relation"]) == (0, "equivalent")


def test_identity_policy_widened_to_every_region(tmp_path: Path) -> None:
    here = f"arn:aws:kms:us-east-1:{A}:key/*"
    old = write(
        tmp_path, "old.json", ip({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": here})
    )
    wider = {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": f"arn:aws:kms:*:{A}:key/*"}
    new = write(tmp_path, "new.json", ip(wider))
    code, out, _ = run(tmp_path, old, new)
    assert (code, out["relation"], out["kind"]) == (1, "more-permissive", "identity-policy")
    w = out["new_access"]
    assert w["action"] == "kms:Decrypt"
    assert w["key"].startswith("arn:aws:kms:") and ":us-east-1:" not in w["key"]
    assert f":{A}:key/" in w["key"]
    # a session of the subject role; its name is the solver's ("example" when the
    # readable-name tier answers in its time, any valid RoleSessionName otherwise)
    role, _, session = w["principal"].rpartition("/")
    assert role == f"arn:aws:sts::{A}:assumed-role/Subject"
    assert re.fullmatch(r"[\w+=,.@-]{2,64}", session), session


def test_identity_policy_tag_condition_compares_tagged_keys(tmp_path: Path) -> None:
    """ABAC (aws:ResourceTag/Project): each key class is compared whatever its tags,
    not only untagged (which made every tag condition fail on both sides: unknown)."""
    here = f"arn:aws:kms:*:{A}:key/*"

    def tagged(value: str) -> dict[str, Any]:
        return ip(
            {
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": here,
                "Condition": {"StringEquals": {"aws:ResourceTag/Project": value}},
            }
        )

    old, new = (
        write(tmp_path, "old.json", tagged("Alpha")),
        write(tmp_path, "new.json", tagged("Beta")),
    )
    code, out, _ = run(tmp_path, old, new)
    assert (code, out["relation"]) == (1, "incomparable")
    assert out["new_access"]["context"]["aws:ResourceTag/Project"] == "Beta"
    assert out["removed_access"]["context"]["aws:ResourceTag/Project"] == "Alpha"
    key = out["new_access"]["key"]
    assumed = out["directions"]["new_access"]["assumed"]
    assert f"{key}: the key is tagged Project=Beta (any key of its class may be)" in assumed


def test_identity_policy_gaining_an_action_on_no_key(tmp_path: Path) -> None:
    use = {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}
    listing_keys = {"Effect": "Allow", "Action": "kms:ListKeys", "Resource": "*"}
    old, new = (
        write(tmp_path, "old.json", ip(use)),
        write(tmp_path, "new.json", ip(use, listing_keys)),
    )
    code, out, _ = run(tmp_path, old, new)
    assert (code, out["relation"]) == (1, "more-permissive")
    assert out["new_access"]["action"] == "kms:ListKeys"
    assert out["new_access"]["key"] is None
    assert out["directions"]["new_access"]["on"] == "requests on no key"


def _cross_account_copy(tmp: Path) -> Path:
    for name in ("world.json", "key-policy.json", "reader-policy.json"):
        shutil.copy(ROOT / "examples" / "cross-account" / name, tmp / name)
    return tmp / "world.json"


def test_world_diff_when_a_partner_role_loses_its_iam_policy(tmp_path: Path) -> None:
    old = _cross_account_copy(tmp_path)
    doc = json.loads(old.read_text())
    doc["accounts"][B]["principals"][f"arn:aws:iam::{B}:role/Reader"]["policies"] = []
    new = write(tmp_path, "new-world.json", doc)
    code, out, _ = run(tmp_path, str(old), new, "--who", f"any principal outside account {A}")
    assert (code, out["relation"], out["kind"]) == (0, "less-permissive", "world")
    removed = out["removed_access"]
    assert removed["principal"].startswith(f"arn:aws:sts::{B}:assumed-role/Reader/")
    # the witness replays through explain: OLD allows it, NEW denies it
    for world, allowed in ((load_world(old), True), (load_world(new), False)):
        req = Request(
            removed["principal"], removed["action"], key=removed["key"], context=Context.of({})
        )
        assert evaluate(world, complete_request(world, req)).allowed is allowed


def test_world_diff_with_a_key_only_in_new(tmp_path: Path) -> None:
    old = _cross_account_copy(tmp_path)
    doc = json.loads(old.read_text())
    other = "arn:aws:kms:us-west-2:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321"
    doc["keys"].append({"arn": other, "policy": "key-policy.json"})
    new = write(tmp_path, "new-world.json", doc)
    code, out, _ = run(tmp_path, str(old), new)
    assert (code, out["relation"]) == (1, "more-permissive")
    assert out["new_access"]["key"] == other
    assert other in out["compared"]


def test_world_diff_when_a_principal_is_retagged(tmp_path: Path) -> None:
    """The same call in both worlds: the retagged role keeps what does not test the
    tag and loses what does (less-permissive, not a new access)."""
    role = f"arn:aws:iam::{A}:role/App"
    tagged = {
        "Effect": "Allow",
        "Principal": {"AWS": role},
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalTag/team": "red"}},
    }
    plain = {
        "Effect": "Allow",
        "Principal": {"AWS": role},
        "Action": "kms:Encrypt",
        "Resource": "*",
    }

    def world(team: str) -> dict[str, Any]:
        return {
            "version": 1,
            "keys": [{"arn": KEY, "policy": kp(extra=[tagged, plain])}],
            "accounts": {A: {"complete": True, "principals": {role: {"tags": {"team": team}}}}},
        }

    old, new = write(tmp_path, "old.json", world("red")), write(tmp_path, "new.json", world("blue"))
    code, out, _ = run(tmp_path, old, new)
    assert (code, out["relation"]) == (0, "less-permissive")
    assert out["removed_access"]["action"] == "kms:Decrypt"
    assert out["removed_access"]["context"]["aws:PrincipalTag/team"] == "red"


def _one_key_world(
    grants: tuple[Any, ...] = (), vpce: Any = None, accounts: Any = None
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "version": 1,
        "keys": [{"arn": KEY, "policy": kp(), "grants": list(grants)}],
        "accounts": accounts or {},
    }
    if vpce is not None:
        doc["vpc_endpoints"] = {"vpce-1": vpce}
    return doc


GRANT = {
    "GrantId": "g1",
    "KeyId": KEY,
    "GranteePrincipal": f"arn:aws:iam::{B}:role/app",
    "Operations": ["Decrypt"],
    "RetiringPrincipal": f"arn:aws:iam::{B}:role/retirer",
    "IssuingAccount": f"arn:aws:iam::{A}:root",
}
ANY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}],
}
DECRYPT_ONLY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}],
}
NEW_ROLE = {
    "complete": True,
    "principals": {
        f"arn:aws:iam::{A}:role/New": {
            "policies": [ip({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"})]
        }
    },
}


def test_world_changes_to_grants_endpoints_and_principals(tmp_path: Path) -> None:
    """A grant, a VPC endpoint policy, a principal of a complete account: each change
    gives the relation it should, with a witness that names what changed."""
    cases = [
        (_one_key_world(), _one_key_world((GRANT,)), "more-permissive", "new_access"),
        (
            _one_key_world(vpce=ANY),
            _one_key_world(vpce=DECRYPT_ONLY),
            "less-permissive",
            "removed_access",
        ),
        (
            _one_key_world(accounts={A: {"complete": True}}),
            _one_key_world(accounts={A: NEW_ROLE}),
            "more-permissive",
            "new_access",
        ),
    ]
    for n, (a, b, relation, direction) in enumerate(cases):
        old, new = write(tmp_path, f"old{n}.json", a), write(tmp_path, f"new{n}.json", b)
        code, out, _ = run(tmp_path, old, new)
        assert out["relation"] == relation, (n, out)
        assert code == (1 if direction == "new_access" else 0)
        w = out[direction]
        if n == 0:
            assert w["principal"].startswith(f"arn:aws:sts::{B}:assumed-role/")
            if w["action"] == "kms:RetireGrant":
                assert w["grant_id"] == "g1"
        if n == 1:
            assert w["via_vpce"] == "vpce-1" and w["action"] != "kms:Decrypt"
        if n == 2:
            assert w["principal"].startswith(f"arn:aws:sts::{A}:assumed-role/New/")
            denied = out["directions"][direction]["denied_because"]
            assert "does not exist" in denied


def test_policy_variable_in_resource_is_unknown_exit_3(tmp_path: Path) -> None:
    by_name = {
        **ADMIN,
        "Action": "kms:*",
        "Resource": f"arn:aws:kms:us-east-1:{A}:key/${{aws:username}}",
    }
    old = write(tmp_path, "old.json", {"Version": "2012-10-17", "Statement": [by_name]})
    new = write(tmp_path, "new.json", kp("kms:Decrypt"))
    code, out, _ = run(tmp_path, old, new)
    assert (code, out["relation"]) == (3, "unknown")
    assert out["new_access"] is None and out["removed_access"] is None
    assert "policy variables" in out["directions"]["new_access"]["reason"]


def test_timeout_is_unknown_exit_3(tmp_path: Path) -> None:
    old = write(tmp_path, "old.json", kp("kms:Decrypt"))
    new = write(tmp_path, "new.json", kp("kms:Decrypt", "kms:Encrypt"))
    code, out, _ = run(tmp_path, old, new, "--timeout", "0.000001")
    assert (code, out["relation"]) == (3, "unknown")
    assert "timeout" in out["directions"]["new_access"]["reason"]


def test_text_output(tmp_path: Path) -> None:
    old = write(tmp_path, "old.json", kp("kms:Decrypt"))
    new = write(tmp_path, "new.json", kp("kms:Decrypt", "kms:Encrypt"))
    result = CliRunner().invoke(main, ["diff", old, new])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith("more-permissive: ")
    assert (
        lines[1].startswith("new access: arn:aws:sts::444455556666:") and "kms:Encrypt" in lines[1]
    )
    assert "  NEW allows it: " in result.output and "  OLD denies it: " in result.output
    assert "removed access: none (proved)" in result.output
    # the witness rests on the partner role's assumed identity policy: no explain line
    # can send it, and diff has no --save-witness to offer (it once said to use one)
    assert "  witness: it rests on what is assumed above" in result.output
    assert "--save-witness" not in result.output and "reproduce:" not in result.output


def test_text_output_reproduces_a_witness_resting_on_nothing(tmp_path: Path) -> None:
    role = f"arn:aws:iam::{A}:role/App"
    direct = {"Effect": "Allow", "Principal": {"AWS": role}, "Action": "kms:Decrypt"}
    old = write(tmp_path, "old.json", kp())
    new = write(tmp_path, "new.json", kp(extra=[{**direct, "Resource": "*"}]))
    result = CliRunner().invoke(main, ["diff", old, new])
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    [line] = [x for x in lines if x.startswith("  reproduce: ")]
    assert f"explain {new} --key-arn {KEY} --principal arn:aws:sts::{A}:assumed-role/App/" in line
    [against] = [x for x in lines if x.startswith("  denied by the other side: ")]
    args = shlex.split(against.split(": ", 1)[1])[1:]
    denied = CliRunner().invoke(main, [*args, "--format", "json"])
    assert json.loads(denied.stdout)["decision"] == "deny"  # (the conftest runs `line`)


def test_readme_example(tmp_path: Path, monkeypatch: Any) -> None:
    readme = (ROOT / "examples" / "diff" / "README.md").read_text()
    line = next(x for x in readme.splitlines() if x.strip().startswith("kmsprove diff"))
    monkeypatch.chdir(ROOT)
    args = shlex.split(line.split("#")[0])[1:]
    result = CliRunner().invoke(main, [*args, "--format", "json"])
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout)["relation"] == "more-permissive"


# --------------------------------------------------------------------------
# bad input: exit 2, positioned errors, nothing on stdout


def test_who_with_ever_is_a_positioned_error(tmp_path: Path) -> None:
    old = write(tmp_path, "old.json", kp("kms:Decrypt"))
    code, out, result = run(tmp_path, old, old, "--who", "anyone ever")
    assert (code, out, result.stdout) == (2, {}, "")
    assert result.stderr.startswith("<who>:1:8: error: `ever` is not supported by diff")


def test_bad_who_points_into_it(tmp_path: Path) -> None:
    old = write(tmp_path, "old.json", kp("kms:Decrypt"))
    code, _, result = run(tmp_path, old, old, "--who", "any principal outsid account 1")
    assert code == 2 and result.stdout == ""
    assert result.stderr.startswith("<who>:1:15: error:"), result.stderr


def test_documents_of_different_kinds(tmp_path: Path) -> None:
    old = write(tmp_path, "old.json", kp("kms:Decrypt"))
    new = write(tmp_path, "new.json", ip({"Effect": "Allow", "Action": "kms:*", "Resource": "*"}))
    code, _, result = run(tmp_path, old, new)
    assert code == 2 and result.stdout == ""
    assert result.stderr.startswith(f"{new}:1:1: error: this looks like an identity policy")


def test_a_kind_diff_does_not_compare(tmp_path: Path) -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": A}, "Action": "sts:AssumeRole"}],
    }
    old = write(tmp_path, "old.json", trust)
    code, _, result = run(tmp_path, old, old)
    assert code == 2
    assert (
        "diff compares key policies, identity policies or worlds, not a trust policy"
        in result.stderr
    )


def test_invalid_policy_is_positioned(tmp_path: Path) -> None:
    old = write(tmp_path, "old.json", kp("kms:Decrypt"))
    new = write(
        tmp_path, "new.json", '{"Version": "2012-10-17", "Statement": [\n  {"Effect": "Alow"}]}'
    )
    code, _, result = run(tmp_path, old, new, "--kind", "key-policy")
    assert code == 2 and result.stdout == ""
    assert all(line.startswith(f"{new}:") for line in result.stderr.splitlines()), result.stderr


def test_missing_file(tmp_path: Path) -> None:
    old = write(tmp_path, "old.json", kp("kms:Decrypt"))
    code, _, result = run(tmp_path, old, str(tmp_path / "nope.json"))
    assert code == 2
    assert result.stderr.startswith(f"{tmp_path / 'nope.json'}:1:1: error: no such file")

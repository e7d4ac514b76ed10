"""`kmsprove collect` against moto: what it writes, and that `query` and `check` take
the directory as it is and answer as they do on the same estate written by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from kmsprove.cli import main
from tests.collect.conftest import REGION, Hooks
from tests.collect.estate import BUCKET, GRANTS, K1_POLICY, A, hand_world, paginate, seed


def collect(out: Path, *args: str) -> Result:
    result = CliRunner().invoke(main, ["collect", "-o", str(out), *args])
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def world(out: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((out / "world.json").read_text())
    return loaded


def test_one_account_is_collected_into_a_world_directory(aws: Hooks, tmp_path: Path) -> None:
    e = seed(aws)
    pages = paginate(aws, "kms", "ListGrants", ("Grants",), "kms")
    out = tmp_path / "estate"
    result = collect(out)
    assert result.exit_code == 0, result.output
    assert "refused: nothing" in result.output
    assert (
        f"read: 3 keys, {GRANTS} grants, 3 IAM users and roles, 1 bucket, 1 bucket with SSE-KMS,"
        " 1 KMS VPC endpoint\n" in result.output
    )
    w = world(out)
    keys = {k["arn"]: k for k in w["keys"]}
    assert sorted(keys) == sorted(e.keys)
    k1, k2, k3 = keys[e.k1], keys[e.k2], keys[e.k3]
    assert k1["aliases"] == ["alias/app"] and k1["tags"] == {"team": "blue"}
    assert (k2["key_spec"], k2["key_usage"]) == ("RSA_2048", "SIGN_VERIFY")
    assert (k3["multi_region"], k3["multi_region_key_type"]) == (True, "PRIMARY")
    # the raw AWS output is kept, and the world file points at it
    policy = json.loads((out / k1["policy"]).read_text())
    assert json.loads(policy["Policy"]) == K1_POLICY  # get-key-policy output, as AWS sent it
    grants = json.loads((out / k1["grants"]).read_text())["Grants"]
    assert sorted(g["GrantId"] for g in grants) == sorted(e.grant_ids)
    assert len(grants) == GRANTS and [p for p in pages if p] == [50, 10]  # every page
    assert all("CreationDate" not in g for g in grants)  # no timestamps
    assert w["accounts"] == {
        A: {"complete": True, "import": f"accounts/{A}/iam/authorization-details.json"}
    }
    (bucket,) = w["buckets"]
    assert bucket["kms_key"] == e.k1  # `alias/app` resolved through the aliases read
    assert bucket["bucket_key"] is True and bucket["region"] == REGION
    assert bucket["policy"] == f"accounts/{A}/s3/{BUCKET}/policy.json"
    assert list(w["vpc_endpoints"]) == [e.endpoint]
    assert "unknowns" not in w
    validated = CliRunner().invoke(main, ["validate", str(out / "world.json")])
    assert validated.exit_code == 0, validated.output


def test_a_small_page_size_reads_every_page(aws: Hooks, tmp_path: Path) -> None:
    e = seed(aws)
    grants = paginate(aws, "kms", "ListGrants", ("Grants",), "kms")
    iam = paginate(
        aws,
        "iam",
        "GetAccountAuthorizationDetails",
        ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies"),
        "iam",
    )
    out = tmp_path / "estate"
    assert collect(out, "--page-size", "1").exit_code == 0
    assert len([p for p in grants if p]) == GRANTS and len(iam) == 2
    w = world(out)
    details = json.loads((out / w["accounts"][A]["import"]).read_text())
    assert [r["RoleName"] for r in details["RoleDetailList"]] == ["App", "Signer"]
    assert [u["UserName"] for u in details["UserDetailList"]] == ["alice"]
    assert [p["Arn"].split("/")[-1] for p in details["Policies"]] == ["AppKms", "Boundary"]
    k1 = next(k for k in w["keys"] if k["arn"] == e.k1)
    assert len(json.loads((out / k1["grants"]).read_text())["Grants"]) == GRANTS


SPEC = f"""\
expect no:  can any principal outside account {A} kms:Decrypt
expect yes: can principal arn:aws:iam::{A}:role/App kms:Decrypt
expect yes: can principal arn:aws:iam::{A}:user/alice kms:Encrypt
expect no:  can principal arn:aws:iam::{A}:role/Signer kms:ScheduleKeyDeletion
expect no:  can any principal outside account {A} s3:GetObject on bucket arn:aws:s3:::{BUCKET}
"""


def _outcomes(world_path: str, spec: Path) -> list[tuple[int, str, str, str]]:
    result = CliRunner().invoke(
        main, ["check", world_path, str(spec), "--format", "json", "--jobs", "1"]
    )
    assert result.exit_code in (0, 1), result.output
    out = json.loads(result.stdout)
    return sorted(
        (r["line"], r["key"] or "", r["status"], r["answer"]["answer"]) for r in out["results"]
    )


def test_answers_on_the_collected_world_equal_the_hand_written_ones(
    aws: Hooks, tmp_path: Path
) -> None:
    e = seed(aws)
    out = tmp_path / "estate"
    assert collect(out).exit_code == 0
    hand = tmp_path / "hand" / "world.json"
    hand.parent.mkdir()
    hand.write_text(json.dumps(hand_world(e), indent=2))
    spec = tmp_path / "kms.spec"
    spec.write_text(SPEC)
    collected = _outcomes(str(out), spec)  # the directory, as `check` takes an estate
    assert collected == _outcomes(str(hand), spec)
    by_line = {(line, key): (status, answer) for line, key, status, answer in collected}
    assert by_line[(1, e.k1)] == ("fails", "yes")  # the partner's Reader role
    assert by_line[(1, e.k2)] == ("holds", "no")
    assert by_line[(2, e.k1)] == ("holds", "yes")  # grants
    assert by_line[(4, e.k3)] == ("holds", "no")  # the key policy's Deny
    query = f"can any principal outside account {A} kms:Decrypt"
    answers = []
    for path in (str(out / "world.json"), str(hand)):
        result = CliRunner().invoke(main, ["query", path, query, "--format", "json"])
        assert result.exit_code == 0, result.output
        answers.append({a["key"]: a["answer"] for a in json.loads(result.stdout)["keys"]})
    assert answers[0] == answers[1] == {e.k1: "yes", e.k2: "no", e.k3: "no"}


def test_all_regions_reads_every_enabled_region_and_replicas(aws: Hooks, tmp_path: Path) -> None:
    kms = aws.client("kms")
    primary = kms.create_key(MultiRegion=True)["KeyMetadata"]
    replica = kms.replicate_key(KeyId=primary["KeyId"], ReplicaRegion="us-west-2")
    aws.client("kms", "eu-west-1").create_key()  # a Region the account has not enabled

    def enabled_only(parsed: dict[str, Any], **kw: Any) -> None:
        # moto lists every Region; an account answers with the ones it enabled
        parsed["Regions"] = [
            r for r in parsed["Regions"] if r["RegionName"] in ("us-east-1", "us-west-2")
        ]

    aws.on("after-call.ec2.DescribeRegions", enabled_only)
    out = tmp_path / "estate"
    result = collect(out, "--all-regions")
    assert result.exit_code == 0, result.output
    assert "Regions: us-east-1, us-west-2" in result.output
    w = world(out)
    assert w["accounts"][A]["enabled_regions"] == ["us-east-1", "us-west-2"]
    keys = {k["arn"]: k for k in w["keys"]}
    assert sorted(keys) == sorted([primary["Arn"], replica["ReplicaKeyMetadata"]["Arn"]])
    assert keys[replica["ReplicaKeyMetadata"]["Arn"]]["multi_region_key_type"] == "REPLICA"
    assert aws.calls.count("ec2:DescribeRegions") == 1


def test_the_summary_is_json_for_programs(aws: Hooks, tmp_path: Path) -> None:
    seed(aws, grants=2)
    result = collect(tmp_path / "estate", "--format", "json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["accounts"] == [{"id": A, "complete": True}]
    assert summary["read"]["keys"] == 3 and summary["read"]["grants"] == 2
    assert summary["refused"] == []
    assert summary["files"]["written"] > 0


def test_the_progress_bar_is_for_terminals_only(monkeypatch: Any) -> None:
    import io

    from kmsprove.collect import cli as collect_cli

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("CI", raising=False)
    for stream, shown in ((io.StringIO(), False), (Terminal(), True)):
        monkeypatch.setattr(collect_cli.sys, "stderr", stream)
        with collect_cli._progress() as (grow, advance):
            grow(4)
            advance(2)
        assert ("collecting" in stream.getvalue()) is shown

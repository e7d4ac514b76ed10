"""What AWS throws at a collection: throttling (botocore's adaptive retry mode recovers),
a refused key policy or IAM listing (recorded, and every answer it may change is
unknown, never no), Ctrl-C (`--resume` goes on without reading again what was written),
unreachable AWS, and a run's output compared with the next one's."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import botocore.endpoint
import botocore.retries.bucket
import pytest
from click.testing import CliRunner

from kmsprove.cli import main
from kmsprove.collect import store as store_module
from kmsprove.collect.store import PROGRESS, Store
from tests.collect.conftest import Hooks
from tests.collect.estate import K1_POLICY, A, interrupt, refuse, seed, throttle
from tests.collect.test_collect import collect, world

Q_OUTSIDE = f"can any principal outside account {A} kms:Decrypt"


def _answers(path: Path, query: str = Q_OUTSIDE) -> dict[str, dict[str, Any]]:
    result = CliRunner().invoke(main, ["query", str(path), query, "--format", "json"])
    assert result.exit_code in (0, 3), result.output
    return {a["key"]: a for a in json.loads(result.stdout)["keys"]}


@dataclass
class Waits:
    slept: list[float] = field(default_factory=list)  # retry backoffs
    tokens: list[int] = field(default_factory=list)  # the adaptive mode's rate limiter


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> Waits:
    """botocore's retry backoff and the adaptive mode's client-side rate limiting,
    recorded instead of waited for (both are botocore's; the test needs seconds)."""
    waits = Waits()

    class _Time:
        @staticmethod
        def sleep(seconds: float) -> None:
            waits.slept.append(seconds)

    def acquire(self: Any, amount: int = 1, block: bool = True) -> bool:
        waits.tokens.append(amount)
        return True

    monkeypatch.setattr(botocore.endpoint, "time", _Time)
    monkeypatch.setattr(botocore.retries.bucket.TokenBucket, "acquire", acquire)
    return waits


def test_throttling_is_retried_by_botocore_until_it_succeeds(
    aws: Hooks, tmp_path: Path, no_backoff: Waits
) -> None:
    e = seed(aws, grants=3)
    sent = throttle(aws, "kms", "GetKeyPolicy", times=3)
    out = tmp_path / "estate"
    result = collect(out)
    assert result.exit_code == 0, result.output
    assert sent[0] == 3 + len(e.keys)  # three throttled sends, then one per key
    assert len(no_backoff.slept) == 3  # botocore backed off before each retry
    assert no_backoff.tokens  # and, in adaptive mode, rate-limited the client
    k1 = next(k for k in world(out)["keys"] if k["arn"] == e.k1)
    assert json.loads(json.loads((out / k1["policy"]).read_text())["Policy"]) == K1_POLICY


def test_throttling_past_the_attempts_is_a_refusal(
    aws: Hooks, tmp_path: Path, no_backoff: Waits
) -> None:
    e = seed(aws, grants=3)
    throttle(aws, "kms", "ListResourceTags", times=1000)
    out = tmp_path / "estate"
    result = collect(out, "--max-attempts", "2")
    assert result.exit_code == 3, result.output
    assert "kms:ListResourceTags ThrottlingException" in result.output
    reasons = {u["key"] for u in world(out)["unknowns"]}
    assert reasons == set(e.keys)


def test_a_refused_key_policy_makes_that_keys_answers_unknown(aws: Hooks, tmp_path: Path) -> None:
    e = seed(aws, grants=3)
    refused = refuse(
        aws, "kms", "GetKeyPolicy", "AccessDeniedException", when=lambda b: b["KeyId"] == e.k1
    )
    out = tmp_path / "estate"
    result = collect(out)
    assert result.exit_code == 3, result.output
    assert len(refused) == 1
    assert f"kms:GetKeyPolicy AccessDeniedException: the key policy of {e.k1}" in result.output
    w = world(out)
    k1 = next(k for k in w["keys"] if k["arn"] == e.k1)
    assert k1["policy"] == {"Version": "2012-10-17", "Statement": []}  # the stand-in
    assert w["unknowns"] == [
        {
            "key": e.k1,
            "reason": f"kms:GetKeyPolicy refused (AccessDeniedException) for the key policy of {e.k1}",
        }
    ]
    answers = _answers(out / "world.json")
    assert answers[e.k1]["answer"] == "unknown"  # the stand-in allows nothing: never "no"
    assert "kms:GetKeyPolicy refused" in answers[e.k1]["reason"]
    assert answers[e.k2]["answer"] == answers[e.k3]["answer"] == "no"  # read in full


def test_refused_iam_leaves_the_account_open_and_every_answer_unknown(
    aws: Hooks, tmp_path: Path
) -> None:
    e = seed(aws, grants=3)
    refuse(aws, "iam", "GetAccountAuthorizationDetails", "AccessDenied")
    out = tmp_path / "estate"
    result = collect(out)
    assert result.exit_code == 3, result.output
    assert "every answer is unknown" in result.output
    w = world(out)
    assert w["accounts"][A] == {"complete": False}
    assert w["unknowns"] == [
        {"reason": f"iam:GetAccountAuthorizationDetails refused (AccessDenied) for the IAM of {A}"}
    ]
    answers = _answers(out / "world.json")
    assert {a["answer"] for a in answers.values()} == {"unknown"}
    assert set(answers) == set(e.keys)


def _snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_a_second_run_with_nothing_changed_writes_nothing(aws: Hooks, tmp_path: Path) -> None:
    seed(aws, grants=3)
    out = tmp_path / "estate"
    assert collect(out).exit_code == 0
    first = _snapshot(out)
    again = collect(out)
    assert again.exit_code == 0
    assert _snapshot(out) == first  # same bytes, same mtimes
    assert "files: 0 written" in again.output
    assert PROGRESS not in first  # the progress log goes when a run completes
    assert not [p for p in first if ".tmp-" in p]


def test_what_no_longer_exists_is_removed(aws: Hooks, tmp_path: Path) -> None:
    seed(aws, grants=3)
    out = tmp_path / "estate"
    assert collect(out).exit_code == 0
    s3 = aws.client("s3")
    s3.delete_bucket_policy(Bucket="data-bucket")
    result = collect(out)
    assert "1 removed" in result.output
    assert not (out / f"accounts/{A}/s3/data-bucket/policy.json").exists()
    assert "policy" not in world(out)["buckets"][0]


def test_resume_after_ctrl_c_reads_only_what_was_not_written(aws: Hooks, tmp_path: Path) -> None:
    e = seed(aws, grants=3)
    out = tmp_path / "estate"
    interrupt(aws, "kms", "DescribeKey", on_call=2)
    result = collect(out)
    assert result.exit_code == 130, result.output
    assert "--resume" in result.output
    assert (out / PROGRESS).exists() and not (out / "world.json").exists()
    aws.handlers.clear()
    aws.calls.clear()
    resumed = collect(out, "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert "resumed:" in resumed.output
    # the first key, the IAM listing and the Region's key listing were not read again
    assert aws.calls.count("kms:DescribeKey") == len(e.keys) - 1
    assert "iam:GetAccountAuthorizationDetails" not in aws.calls
    assert "kms:ListKeys" not in aws.calls
    resumed_world = (out / "world.json").read_bytes()
    fresh = tmp_path / "fresh"
    assert collect(fresh).exit_code == 0
    assert (fresh / "world.json").read_bytes() == resumed_world
    assert _contents(fresh) == _contents(out)


def _contents(root: Path) -> dict[str, bytes]:
    return {k: v[0] for k, v in _snapshot(root).items()}


def test_resume_with_other_options_is_refused(aws: Hooks, tmp_path: Path) -> None:
    seed(aws, grants=3)
    out = tmp_path / "estate"
    interrupt(aws, "kms", "DescribeKey", on_call=1)
    assert collect(out).exit_code == 130
    result = collect(out, "--resume", "--region", "eu-west-1")
    assert result.exit_code == 2
    assert "<cli>:1:1: error: --resume:" in result.output and "other options" in result.output


def test_a_progress_line_cut_short_by_a_crash_is_done_again(aws: Hooks, tmp_path: Path) -> None:
    seed(aws, grants=3)
    out = tmp_path / "estate"
    interrupt(aws, "kms", "DescribeKey", on_call=3)
    assert collect(out).exit_code == 130
    log = out / PROGRESS
    lines = log.read_text().splitlines()
    log.write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:20])  # the last line half-written
    aws.handlers.clear()
    assert collect(out, "--resume").exit_code == 0
    fresh = tmp_path / "fresh"
    assert collect(fresh).exit_code == 0
    assert _contents(fresh) == _contents(out)


def test_a_write_cut_short_leaves_the_old_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(tmp_path)
    store.write("a/doc.json", {"v": 1})
    before = (tmp_path / "a/doc.json").read_bytes()

    def killed(src: str, dst: str) -> None:
        raise KeyboardInterrupt  # between the temporary file and the rename

    monkeypatch.setattr(store_module.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        Store(tmp_path).write("a/doc.json", {"v": 2, "long": "x" * 10_000})
    assert (tmp_path / "a/doc.json").read_bytes() == before
    assert os.listdir(tmp_path / "a") == ["doc.json"]  # no temporary file left either


def test_unreachable_aws_is_an_error_not_a_traceback(
    aws: Hooks, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    result = collect(tmp_path / "estate", "--max-attempts", "1")
    assert result.exit_code == 2
    assert result.output.startswith("<aws>:1:1: error: sts:GetCallerIdentity:")


def test_collect_without_boto3_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "boto3", None)  # `import boto3` fails
    result = CliRunner().invoke(main, ["collect", "-o", str(tmp_path / "estate")])
    assert result.exit_code == 2
    assert "pip install 'kmsprove[collect]'" in result.output
    assert not (tmp_path / "estate").exists()


def test_a_refused_bucket_policy_hedges_the_buckets_key(aws: Hooks, tmp_path: Path) -> None:
    e = seed(aws, grants=3)
    refuse(aws, "s3", "GetBucketPolicy", "AccessDenied")
    out = tmp_path / "estate"
    result = collect(out)
    assert result.exit_code == 3, result.output
    w = world(out)
    assert "policy" not in w["buckets"][0]
    assert w["unknowns"] == [
        {
            "key": e.k1,
            "reason": "s3:GetBucketPolicy refused (AccessDenied)"
            " for the policy of bucket data-bucket",
        }
    ]


def test_refused_aliases_hedge_every_key_of_the_region(aws: Hooks, tmp_path: Path) -> None:
    e = seed(aws, grants=0)
    refuse(aws, "kms", "ListAliases", "AccessDeniedException")
    out = tmp_path / "estate"
    assert collect(out).exit_code == 3
    w = world(out)
    assert sorted(u["key"] for u in w["unknowns"]) == sorted(e.keys)
    assert all("aliases" not in k for k in w["keys"])

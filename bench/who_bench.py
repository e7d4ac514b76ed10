"""Benchmark `who`: the console default key policy and a complete account of 1,000 roles
and users with identity policies, a few of which may decrypt: with one identity policy
(the evaluator's probe finds them from one witness), or each only with its own
encryption context (no two alike: one solver question each).

    python bench/who_bench.py              # `who` through the library and the CLI
    python bench/who_bench.py --baseline   # also one `query` per principal (issue 13's
                                           # "one expect line per principal")

The world is written to a temporary directory; the CLI run is timed with the process
that starts it (Python, imports, reading the world, the report).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from kmsprove.answer import WhoStatus
from kmsprove.ast import Query, Who, WhoKind
from kmsprove.inputs.world_file import load_world_json
from kmsprove.questions.ask import ask
from kmsprove.questions.who import ask_who, parse_actions

A = "111122223333"
KEY = f"arn:aws:kms:us-east-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
CONSOLE = json.loads(
    (HERE.parent / "tests" / "cases" / "realworld" / "console-default.json").read_text()
)


def _ip(*actions: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}],
    }


def _own_context(i: int) -> dict:
    """Decrypt only with the principal's own encryption context: no two alike."""
    policy = _ip("kms:Decrypt")
    policy["Statement"][0]["Condition"] = {"StringEquals": {"kms:EncryptionContext:team": f"t{i}"}}
    return policy


def world(principals: int, every: int, alike: bool = True) -> dict:
    """`principals` roles and users; one in `every` may decrypt (with one identity policy,
    or each with its own encryption context), the others read S3, encrypt or describe
    keys."""
    others = (_ip("s3:*"), _ip("kms:Encrypt", "kms:DescribeKey"), _ip("kms:Describe*", "s3:Get*"))
    ps: dict[str, dict] = {}
    for i in range(principals):
        kind = "user" if i % 4 == 0 else "role"
        reader = _ip("kms:Decrypt", "s3:*") if alike else _own_context(i)
        policy = reader if i % every == 0 else others[i % 3]
        ps[f"arn:aws:iam::{A}:{kind}/p{i}"] = {"policies": [policy]}
    ps[f"arn:aws:iam::{A}:role/KeyAdmin"] = {"policies": []}
    ps[f"arn:aws:iam::{A}:role/KeyUser"] = {"policies": []}
    return {
        "version": 1,
        "keys": [{"arn": KEY, "policy": CONSOLE}],
        "accounts": {A: {"complete": True, "principals": ps}},
    }


def main() -> None:
    baseline = "--baseline" in sys.argv[1:]
    print("who can kms:Decrypt (console default policy, complete account):")
    for principals, every, alike in (
        (100, 10, True),
        (1000, 100, True),
        (1000, 20, True),
        (1000, 100, False),
        (1000, 20, False),
    ):
        doc = world(principals, every, alike)
        t = time.perf_counter()
        w = load_world_json(doc)
        load = time.perf_counter() - t
        t = time.perf_counter()
        [r] = ask_who(w, parse_actions("kms:Decrypt"), timeout=600)
        solve = time.perf_counter() - t
        assert r.status is WhoStatus.COMPLETE, r.reason
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "world.json"
            path.write_text(json.dumps(doc))
            t = time.perf_counter()
            cli = [sys.executable, "-m", "kmsprove.cli", "who", str(path), "kms:Decrypt"]
            done = subprocess.run(cli, capture_output=True, text=True, cwd=HERE.parent)
            whole = time.perf_counter() - t
            assert done.returncode == 0, done.stderr
        how = "alike" if alike else "each its own context"
        print(
            f"  {principals:5d} principals, {len(r.found):3d} found ({how}), {r.queries:3d} questions:"
            f" load {load:.2f} s, who {solve:.2f} s, whole CLI run {whole:.2f} s"
        )
        if baseline and principals == 1000 and alike:
            t = time.perf_counter()
            for arn in doc["accounts"][A]["principals"]:
                q = Query(Who(WhoKind.PRINCIPAL, pattern=arn), ("kms:Decrypt",))
                ask(w, q, timeout=60)
            print(f"        one query per principal: {time.perf_counter() - t:.1f} s")


if __name__ == "__main__":
    main()

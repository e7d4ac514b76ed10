"""Benchmark `ever`: the console default key policy, N grants and a complete account of
P principals, with and without the key administrator and the root user trusted.

    python bench/ever_bench.py
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from kmsprove.ast import Query, Who, WhoKind
from kmsprove.inputs.world_file import load_world_json
from kmsprove.questions.ask import ask

A = "111122223333"
KEY = f"arn:aws:kms:us-east-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
CONSOLE = json.loads(
    (HERE.parent / "tests" / "cases" / "realworld" / "console-default.json").read_text()
)
EVER = Query(Who(WhoKind.OUTSIDE_ACCOUNTS, accounts=(A,)), ("kms:Decrypt",), ever=True)
TRUST = (f"arn:aws:iam::{A}:role/KeyAdmin", f"arn:aws:iam::{A}:root")


def world(principals: int, grants: int) -> dict:
    ip = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["kms:Decrypt", "s3:*"], "Resource": "*"}],
    }
    # roles whose trust policy is not given count as assumable by anyone: give one
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = {"trust_policy": trust}
    ps = {f"arn:aws:iam::{A}:role/r{i}": {**role, "policies": [ip]} for i in range(principals)}
    ps[f"arn:aws:iam::{A}:role/KeyAdmin"] = role
    ps[f"arn:aws:iam::{A}:role/KeyUser"] = role
    gs = [
        {
            "GrantId": f"g{i}",
            "GranteePrincipal": f"arn:aws:iam::{A}:role/r{i % max(principals, 1)}",
            "Operations": ["Decrypt"],
        }
        for i in range(grants)
    ]
    return {
        "version": 1,
        "keys": [{"arn": KEY, "policy": CONSOLE, "grants": gs}],
        "accounts": {A: {"complete": True, "principals": ps}},
    }


def main() -> None:
    print("ever, outside-account Decrypt (console default policy):")
    for principals, grants in ((50, 20), (200, 200), (1000, 2000)):
        w = load_world_json(world(principals, grants))
        for trusted in ((), TRUST):
            t = time.perf_counter()
            [answer] = ask(w, EVER, timeout=60, trusted=trusted)
            label = "trusting admin+root" if trusted else "no one trusted     "
            print(
                f"  {principals:5d} principals, {grants:5d} grants, {label}: {answer.verdict.value:3s} "
                f"{(time.perf_counter() - t) * 1000:.0f} ms"
            )


if __name__ == "__main__":
    main()

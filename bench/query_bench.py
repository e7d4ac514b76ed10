"""Benchmark `kmsprove query`: solver time on typical key policies, and on a
quota-sized world for a "no" and for a "yes" hidden among 50,000 grants.

    python bench/query_bench.py [--quick]

Prints the tables README.md reports. Memory is the peak resident size of the process.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from kmsprove.ast import CondOp, Query, QueryCond, Who, WhoKind
from kmsprove.inputs import load_world
from kmsprove.inputs.world_file import load_world_json
from kmsprove.questions.ask import ask

A = "111122223333"
KEY = f"arn:aws:kms:us-east-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OUTSIDE = Query(Who(WhoKind.OUTSIDE_ACCOUNTS, accounts=(A,)), ("kms:Decrypt",))


def typical_policy(i: int, n: int) -> dict:
    """Real-world shapes: console default, admins, users, grants for AWS resources,
    a partner account, a service principal, ViaService/CallerAccount/OrgID idioms."""
    admin = f"arn:aws:iam::{A}:role/KeyAdmin"
    user = f"arn:aws:iam::{A}:role/App{i}"
    partner = f"arn:aws:iam::{444455556666 + i}:root"
    shapes = [
        {
            "Sid": "EnableIAM",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "Admins",
            "Effect": "Allow",
            "Principal": {"AWS": admin},
            "Resource": "*",
            "Action": [
                "kms:Create*",
                "kms:Describe*",
                "kms:Enable*",
                "kms:List*",
                "kms:Put*",
                "kms:Update*",
                "kms:Revoke*",
                "kms:Disable*",
                "kms:Get*",
                "kms:Delete*",
                "kms:ScheduleKeyDeletion",
                "kms:CancelKeyDeletion",
            ],
        },
        {
            "Sid": "Users",
            "Effect": "Allow",
            "Principal": {"AWS": user},
            "Resource": "*",
            "Action": [
                "kms:Encrypt",
                "kms:Decrypt",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:DescribeKey",
            ],
        },
        {
            "Sid": "Grants",
            "Effect": "Allow",
            "Principal": {"AWS": user},
            "Resource": "*",
            "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
        },
        {
            "Sid": "Partner",
            "Effect": "Allow",
            "Principal": {"AWS": partner},
            "Resource": "*",
            "Action": ["kms:Decrypt", "kms:DescribeKey"],
            "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
        },
        {
            "Sid": "CloudTrail",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Resource": "*",
            "Action": "kms:GenerateDataKey*",
            "Condition": {
                "StringLike": {
                    "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{A}:trail/*"
                },
                "StringEquals": {"aws:SourceAccount": A},
            },
        },
        {
            "Sid": "Org",
            "Effect": "Allow",
            "Principal": "*",
            "Resource": "*",
            "Action": "kms:Decrypt",
            "Condition": {
                "StringEquals": {"aws:PrincipalOrgID": "o-exampleorgid", "kms:CallerAccount": A}
            },
        },
        {
            "Sid": "DenyOutsideOrg",
            "Effect": "Deny",
            "Principal": "*",
            "Resource": "*",
            "Action": "kms:*",
            "Condition": {
                "StringNotEquals": {"aws:PrincipalOrgID": "o-exampleorgid"},
                "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
            },
        },
    ]
    sts = []
    while len(sts) < n:
        s = dict(shapes[len(sts) % len(shapes)])
        s["Sid"] = f"{s['Sid']}{len(sts)}"
        sts.append(s)
    return {"Version": "2012-10-17", "Statement": sts}


def typical(count: int, statements: int) -> list[float]:
    times = []
    for i in range(count):
        doc = {
            "version": 1,
            "keys": [{"arn": KEY, "policy": typical_policy(i, statements)}],
            "accounts": {A: {"organization": "o-exampleorgid"}},
        }
        world = load_world_json(doc)
        t = time.perf_counter()
        ask(world, OUTSIDE)
        times.append(time.perf_counter() - t)
    return times


def quota(grants: int, principals: int, hidden: bool) -> tuple[str, float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable,
            str(HERE / "make_world.py"),
            tmp,
            "--grants",
            str(grants),
            "--principals",
            str(principals),
        ]
        subprocess.run(cmd + (["--hidden-grant"] if hidden else []), check=True)
        t0 = time.perf_counter()
        world = load_world(Path(tmp) / "world.json")
        t1 = time.perf_counter()
        if hidden:
            q = Query(Who(WhoKind.OUTSIDE_ACCOUNTS, accounts=(A,)), ("kms:Encrypt",))
        else:
            q = Query(
                Who(WhoKind.OUTSIDE_ACCOUNTS, accounts=(A,)),
                ("kms:Decrypt",),
                conditions=(QueryCond("kms:ViaService", CondOp.NE, "s3.us-east-1.amazonaws.com"),),
            )
        [answer] = ask(world, q, timeout=60)
        t2 = time.perf_counter()
        return answer.verdict.value, t1 - t0, t2 - t1


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    print("typical key policies (outside-account Decrypt query):")
    for n in (4, 8, 12, 20):
        ts = typical(10 if a.quick else 30, n)
        print(
            f"  {n:2d} statements: median {statistics.median(ts) * 1000:.0f} ms, max {max(ts) * 1000:.0f} ms"
        )
    print("quota-sized worlds (load + solve):")
    sizes = [(1_000, 100), (10_000, 1_000), (50_000, 5_000)] if not a.quick else [(1_000, 100)]
    for g, p in sizes:
        for hidden in (False, True):
            verdict, load, solve = quota(g, p, hidden)
            print(
                f"  {g:6d} grants, {p:5d} principals, {'hidden yes' if hidden else 'no       '}: "
                f"answer {verdict}, load {load:.1f} s, solve {solve:.1f} s"
            )
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    print(json.dumps({"python": sys.version.split()[0]}))


if __name__ == "__main__":
    main()

"""Developer script: worked cases (JSON lines) -> tests/cases/worked/<id>/ folders.

Run by hand, never by the tests (the tests read only the committed output):

    python tools/convert_cases.py [CASES.jsonl] [--out tests/cases/worked]

Each case becomes `world.json` (world file version 1, as `kmsprove.inputs.world_file`
accepts it), `request.json` (or `request-1.json`, `request-2.json`, ... for a
case that needs several authorizations: it is allowed iff all are) and
`expected.json`. The mapping is in tests/cases/README.md; everything the
mapping had to decide for one case is listed in that case's
`expected.json` "notes", so nothing is changed silently.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CASES = Path("/work/shared/cases/worked-cases.jsonl")
DEFAULT_OUT = REPO / "tests" / "cases" / "worked"

KEY_ARN_RE = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/.+$")
ACCOUNT_RE = re.compile(r"^\d{12}$")

# Case key fields -> world key fields (same names unless listed).
CASE_KEY_ONLY = ("account", "region")  # derived from the ARN in world version 1
KEY_COPY = (
    "manager",
    "state",
    "aliases",
    "key_spec",
    "key_usage",
    "origin",
    "multi_region",
    "multi_region_key_type",
    "tags",
)

# Request fields the world file or request file does not need (derived from the
# caller ARN and the world by `kmsprove.request.complete_request`).
REQUEST_DERIVED = ("principal_type", "principal_account", "role_arn")
REQUEST_COPY = ("session_policy", "via_vpce", "key_id_as_sent", "grant_tokens", "federated_from")

# API parameters whose value the request context already carries (R4.11, R5.2),
# so the request file needs no copy of them.
PARAM_IN_CONTEXT = {
    "GranteePrincipal": "kms:GranteePrincipal",
    "GranteeServicePrincipal": "kms:GranteeServicePrincipal",
    "RetiringPrincipal": "kms:RetiringPrincipal",
    "RetiringServicePrincipal": "kms:RetiringServicePrincipal",
    "Operations": "kms:GrantOperations",
    "PendingWindowInDays": "kms:ScheduleKeyDeletionPendingWindowInDays",
    "BypassPolicyLockoutSafetyCheck": "kms:BypassPolicyLockoutSafetyCheck",
    "ReplicaRegion": "kms:ReplicaRegion",
}

DEFAULT_KEY_POLICY_NOTE = (
    "key {arn} has no policy in the case; given the default key policy of R7.2 "
    "(Allow arn:aws:iam::{acct}:root kms:* on *)"
)


# Cases where kmsprove keeps a different answer, with the reason (cases README:
# "keep your answer, pin it with a test and say why").
KMSPROVE_ANSWERS: dict[str, dict[str, str]] = {
    "prin-006": {
        "input_error": "partial wildcard",
        "why": "KMS never stores a key policy with a partial-wildcard principal (R2.4), so no"
        " real key has this policy; kmsprove rejects the world with a positioned error"
        " instead of deciding a request on it. The statement would match nobody anyway.",
    },
}


def default_key_policy(account: str) -> dict[str, Any]:
    """The policy CreateKey installs without a Policy parameter (R7.2)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }


def account_of(arn: str) -> str | None:
    parts = arn.split(":")
    if len(parts) >= 6 and parts[0] == "arn" and ACCOUNT_RE.match(parts[4]):
        return parts[4]
    return None


class Unsupported(Exception):
    """World version 1 cannot express this case."""


class Converter:
    """One case -> (world, [request], expected); `notes` collects every decision."""

    def __init__(self, case: dict[str, Any]) -> None:
        self.case = case
        self.notes: list[str] = []
        self.unsupported: list[str] = []

    # -- world -------------------------------------------------------------

    def world(self) -> dict[str, Any]:
        w = self.case["world"]
        known = {
            "key",
            "key_policy",
            "key_policy_aws_ram",
            "grants",
            "other_keys",
            "principals",
            "organization",
            "scps",
            "rcps",
            "enabled_regions",
            "vpce_policies",
            "bucket",
        }
        for field in sorted(set(w) - known):
            self.unsupported.append(f"case world field `{field}` has no place in world version 1")
        main_key = self.key(
            w["key"], w.get("key_policy"), w.get("grants"), w.get("key_policy_aws_ram")
        )
        others = [
            self.key(
                k,
                k.get("key_policy", k.get("policy")),
                k.get("grants"),
                k.get("key_policy_aws_ram"),
            )
            for k in w.get("other_keys") or []
        ]
        keys = [main_key, *others]
        world: dict[str, Any] = {"version": 1, "keys": keys}
        accounts = self.accounts(w)
        if accounts:
            world["accounts"] = accounts
        if w.get("bucket"):
            world["buckets"] = [self.bucket(w["bucket"])]
        if w.get("vpce_policies"):
            world["vpc_endpoints"] = dict(w["vpce_policies"])
        return world

    def key(
        self,
        k: dict[str, Any],
        policy: dict[str, Any] | None,
        grants: list[dict[str, Any]] | None,
        ram_policy: dict[str, Any] | None,
    ) -> dict[str, Any]:
        arn = k["arn"]
        if not KEY_ARN_RE.match(arn):
            self.unsupported.append(f"key `{arn}` is not a KMS key ARN")
        parts = arn.split(":")
        if k.get("account") not in (None, parts[4]):
            self.notes.append(f"key account `{k['account']}` differs from its ARN; the ARN wins")
        if k.get("region") not in (None, parts[3]):
            self.notes.append(f"key region `{k['region']}` differs from its ARN; the ARN wins")
        for field in sorted(
            set(k)
            - set(KEY_COPY)
            - set(CASE_KEY_ONLY)
            - {"arn", "key_policy", "policy", "grants", "key_policy_aws_ram"}
        ):
            self.unsupported.append(f"case key field `{field}` has no place in world version 1")
        if policy is None:
            policy = default_key_policy(parts[4])
            self.notes.append(DEFAULT_KEY_POLICY_NOTE.format(arn=arn, acct=parts[4]))
        out: dict[str, Any] = {"arn": arn, "policy": policy}
        if ram_policy is not None:
            out["aws_ram_policy"] = ram_policy
        out["grants"] = [self.grant(g) for g in grants or []]
        for field in KEY_COPY:
            if field in k:
                out[field] = k[field]
        return out

    def grant(self, g: dict[str, Any]) -> dict[str, Any]:
        from kmsprove.syntax.grant import GRANT_FIELDS

        accepted = (*GRANT_FIELDS, "consistent")
        out = {}
        for name, value in g.items():
            if name in accepted:
                out[name] = value
            else:
                self.notes.append(
                    f"grant `{g.get('GrantId')}`: dropped field `{name}` (loader rejects it)"
                )
        if "consistent" in g:
            self.notes.append(
                f'grant `{g.get("GrantId")}` has "consistent": {json.dumps(g["consistent"])}; '
                "the loader accepts the field but world version 1 keeps no consistency state "
                "(kmsprove models the steady state, R4.9)"
            )
        return out

    def accounts(self, w: dict[str, Any]) -> dict[str, dict[str, Any]]:
        accounts: dict[str, dict[str, Any]] = {}

        def acct(a: str) -> dict[str, Any]:
            if not ACCOUNT_RE.match(a):
                self.unsupported.append(f"`{a}` is not a 12-digit account id")
            return accounts.setdefault(a, {})

        for arn, p in (w.get("principals") or {}).items():
            a = account_of(arn)
            kind = arn.split(":", 5)[5].split("/", 1)[0] if a else ""
            if a is None or kind not in ("user", "role"):
                self.unsupported.append(
                    f"principal `{arn}` is not an IAM user or role ARN (world principals are users and roles)"
                )
                continue
            extra = sorted(set(p) - {"identity_policies", "permissions_boundary", "tags"})
            for field in extra:
                self.unsupported.append(
                    f"principal field `{field}` has no place in world version 1"
                )
            acct(a).setdefault("principals", {})[arn] = {
                "policies": p.get("identity_policies") or [],
                "boundary": p.get("permissions_boundary"),
                "tags": p.get("tags") or {},
            }
        org = w.get("organization")
        if org:
            for member in org.get("members") or []:
                acct(member)["organization"] = org["id"]
            mgmt = org.get("management_account")
            if mgmt:
                entry = acct(mgmt)
                entry["management"] = True
                if mgmt not in (org.get("members") or []):
                    entry["organization"] = org["id"]
                    self.notes.append(
                        f"management account {mgmt} is not listed as a member; made one"
                    )
        for field, target in (
            ("scps", "scps"),
            ("rcps", "rcps"),
            ("enabled_regions", "enabled_regions"),
        ):
            for a, value in (w.get(field) or {}).items():
                acct(a)[target] = value
        # The request context may name the caller's organization where the case world
        # has no `organization` block for that account: the world must agree with it,
        # since aws:PrincipalOrgID follows from the caller's account.
        req = self.case["request"]
        ctx = {k.lower(): v for k, v in (req.get("context") or {}).items()}
        org_id = ctx.get("aws:principalorgid")
        caller_acct = req.get("principal_account") or account_of(req.get("principal", ""))
        if org_id and caller_acct:
            have = accounts.get(caller_acct, {}).get("organization")
            if have is None:
                acct(caller_acct)["organization"] = org_id
                self.notes.append(
                    f'account {caller_acct} given "organization": "{org_id}" from the request '
                    "context's aws:PrincipalOrgID (the case world has no organization for it)"
                )
            elif have != org_id:
                self.notes.append(
                    f"request context aws:PrincipalOrgID `{org_id}` contradicts the organization "
                    f"`{have}` of account {caller_acct}"
                )
        return dict(sorted(accounts.items()))

    def bucket(self, b: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"arn": b["arn"], "account": b["account"]}
        if b.get("region"):
            out["region"] = b["region"]
        policy = b.get("policy")
        if policy:
            out["policy"] = policy
        elif policy is not None:
            self.notes.append(
                "the case bucket policy is `{}` (no bucket policy): left out of the world"
            )
        enc = b.get("default_encryption") or {}
        obj = b.get("object") or {}
        default_key = enc.get("KMSMasterKeyID")
        kms_key = obj.get("kms_key") or default_key
        if kms_key:
            out["kms_key"] = kms_key
        if obj.get("kms_key") and default_key and obj["kms_key"] != default_key:
            self.notes.append(
                f"bucket default encryption names `{default_key}` but the object records "
                f"`{obj['kms_key']}`; world kms_key is the object's key (R8.3, 10.2)"
            )
        if "BucketKeyEnabled" in enc:
            out["bucket_key"] = bool(enc["BucketKeyEnabled"])
        if enc.get("SSEAlgorithm") not in (None, "aws:kms", "aws:kms:dsse"):
            self.notes.append(f"bucket SSEAlgorithm `{enc['SSEAlgorithm']}` is not SSE-KMS")
        mapped = {"arn", "account", "region", "policy", "default_encryption", "object"}
        for field in sorted(set(b) - mapped):
            self.notes.append(
                f"bucket field `{field}` = {json.dumps(b[field])} does not map to world version 1"
            )
        for field in sorted(set(enc) - {"SSEAlgorithm", "KMSMasterKeyID", "BucketKeyEnabled"}):
            self.notes.append(
                f"bucket default_encryption `{field}` does not map to world version 1"
            )
        for field in sorted(set(obj) - {"arn", "kms_key"}):
            self.notes.append(
                f"bucket object field `{field}` = {json.dumps(obj[field])} does not map to world version 1"
            )
        if obj.get("arn"):
            if obj["arn"] == self.case["request"].get("resource"):
                where = "it is the request resource"
            else:
                where = "the request does not name it"
            self.notes.append(
                f"bucket object `{obj['arn']}` is not part of world version 1 ({where}); "
                "its key is the bucket's kms_key"
            )
        return out

    # -- requests ----------------------------------------------------------

    def requests(self) -> list[dict[str, Any]]:
        r = self.case["request"]
        known = {
            "principal",
            "action",
            "resource",
            "context",
            "api_params",
            "encryption_context",
            "authorizations",
            "kms_subrequest",
            "note",
            *REQUEST_DERIVED,
            *REQUEST_COPY,
        }
        for field in sorted(set(r) - known):
            self.unsupported.append(f"case request field `{field}` is not mapped")
        base: dict[str, Any] = {"principal": r["principal"]}
        context = dict(r.get("context") or {})
        for k, v in (r.get("encryption_context") or {}).items():
            name = f"kms:EncryptionContext:{k}"
            if name not in context:
                context[name] = v
                self.notes.append(f"request context given `{name}` from encryption_context")
        extras: dict[str, Any] = {}
        for field in REQUEST_COPY:
            if r.get(field) is not None:
                extras[field] = r[field]
        params = dict(r.get("api_params") or {})
        if "GrantId" in params:
            extras["grant_id"] = params.pop("GrantId")
        if "KeyId" in params:
            key_id = params.pop("KeyId")
            extras.setdefault("key_id_as_sent", key_id)
        if self.constraints_in_context(params, context):
            params.pop("Constraints")
        for name in list(params):
            ctx_key = PARAM_IN_CONTEXT.get(name)
            if ctx_key is None:
                continue
            if not any(k.lower() == ctx_key.lower() for k in context):
                value = params[name]
                if isinstance(value, bool):
                    value = "true" if value else "false"
                context[ctx_key] = value if isinstance(value, list) else str(value)
                self.notes.append(
                    f"request context given `{ctx_key}` = {json.dumps(context[ctx_key])} "
                    f"from api_params.{name} (R5.2: the key AWS supplies for that parameter)"
                )
            params.pop(name)
        if params:
            extras["api_params"] = params
            self.notes.append(
                "request file carries `api_params` "
                + ", ".join(f"`{p}`" for p in params)
                + " (not expressed by the request context)"
            )
        if r.get("note"):
            self.notes.append(f"request note: {r['note']}")
        if r.get("federated_from"):
            self.notes.append(
                "request file carries `federated_from` (the IAM user behind the federated-user session)"
            )
        auths = r.get("authorizations")
        if not auths:
            auths = [{"action": r["action"], "resource": r["resource"]}]
        out = []
        for auth in auths:
            req = dict(base)
            req["action"] = auth["action"]
            req.update(self.target(auth["resource"]))
            req["context"] = context
            if auth.get("region"):
                # The Region this authorization is for: AWS's aws:RequestedRegion.
                req["context"] = {**context, "aws:RequestedRegion": auth["region"]}
                self.notes.append(
                    f"the `{auth['action']}` authorization is for Region `{auth['region']}`: "
                    "its request context has aws:RequestedRegion set to it"
                )
            req.update(extras)
            out.append(req)
        if len(out) > 1:
            self.notes.append(
                f"case action `{r['action']}` needs {len(out)} authorizations; allowed iff all are"
            )
        return out

    def constraints_in_context(self, params: dict[str, Any], context: dict[str, Any]) -> bool:
        """CreateGrant Constraints are in the context as kms:GrantConstraintType etc. (R4.11)."""
        cons = params.get("Constraints")
        if cons is None:
            return False
        low = {k.lower(): v for k, v in context.items()}
        for kind in ("EncryptionContextSubset", "EncryptionContextEquals"):
            if kind in cons:
                if low.get("kms:grantconstrainttype") != kind:
                    return False
                for k, v in cons[kind].items():
                    if low.get(f"kms:encryptioncontext:{k}".lower()) != v:
                        return False
        return (
            "SourceArn" not in cons or low.get("kms:grantconstraintsourcearn") == cons["SourceArn"]
        )

    def target(self, resource: str) -> dict[str, str]:
        if KEY_ARN_RE.match(resource):
            return {"key": resource}
        if resource == "*":
            self.notes.append(
                "resource `*` (an IAM-only action): the request names no key or resource"
            )
            return {}
        if ":kms:" in resource and ":alias/" in resource:
            # An alias ARN: for the alias half of CreateAlias it is the resource
            # authorized; for a key operation it is how the key was named.
            if self.case["request"].get("authorizations"):
                self.notes.append(f"alias ARN `{resource}` is given as the request `resource`")
                return {"resource": resource}
            self.notes.append(
                f"the case names the key by alias ARN `{resource}`: request `key` is that ARN"
            )
            return {"key": resource}
        return {"resource": resource}

    # -- expected ----------------------------------------------------------

    def expected(self, request_files: list[str]) -> dict[str, Any]:
        c = self.case
        override = KMSPROVE_ANSWERS.get(c["id"])
        out: dict[str, Any] = {"id": c["id"], "topic": c.get("topic"), "decision": c["expected"]}
        if c.get("outcome"):
            out["outcome"] = c["outcome"]
        out["why"] = c.get("why")
        out["source"] = c.get("source")
        out["ambiguous"] = bool(c.get("ambiguous", False))
        if c.get("ambiguity"):
            out["ambiguity"] = c["ambiguity"]
        if c.get("note"):
            out["note"] = c["note"]
        out["requests"] = request_files
        r = c["request"]
        if r.get("kms_subrequest"):
            out["kms_subrequest"] = r["kms_subrequest"]
        if r.get("api_params") is not None:
            out["api_params"] = r["api_params"]
        out["notes"] = self.notes
        out["supported"] = not self.unsupported
        if self.unsupported:
            out["unsupported_reason"] = "; ".join(self.unsupported)
        if override:
            out["kmsprove"] = override
        return out

    def check_subrequest(self, world: dict[str, Any]) -> None:
        """The S3 case's KMS call should follow from the bucket (R8.2, R8.3)."""
        sub = self.case["request"].get("kms_subrequest")
        if not sub:
            return
        bucket = (world.get("buckets") or [{}])[0]
        if sub.get("resource") != bucket.get("kms_key"):
            self.notes.append(
                f"kms_subrequest key `{sub.get('resource')}` is not the bucket kms_key `{bucket.get('kms_key')}`"
            )
        ec = (sub.get("encryption_context") or {}).get("aws:s3:arn")
        obj = self.case["request"]["resource"]
        want = bucket.get("arn") if bucket.get("bucket_key") else obj
        if ec is not None and ec != want:
            self.notes.append(
                f"kms_subrequest EC aws:s3:arn `{ec}` is not the expected `{want}` (R8.2)"
            )


def dump(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def convert(case: dict[str, Any], out_dir: Path) -> dict[str, Any]:
    conv = Converter(case)
    world = conv.world()
    requests = conv.requests()
    conv.check_subrequest(world)
    folder = out_dir / case["id"]
    folder.mkdir(parents=True)
    dump(folder / "world.json", world)
    if len(requests) == 1:
        names = ["request.json"]
    else:
        names = [f"request-{i}.json" for i in range(1, len(requests) + 1)]
    for name, req in zip(names, requests, strict=True):
        dump(folder / name, req)
    expected = conv.expected(names)
    dump(folder / "expected.json", expected)
    return expected


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cases", nargs="?", default=str(DEFAULT_CASES), help="worked-cases.jsonl")
    ap.add_argument("--out", default=str(DEFAULT_OUT), help="output folder (replaced)")
    ap.add_argument("--check", action="store_true", help="load every world.json with load_world")
    args = ap.parse_args(argv)
    out_dir = Path(args.out)
    cases = [
        json.loads(line)
        for line in Path(args.cases).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    ids = [c["id"] for c in cases]
    if len(set(ids)) != len(ids):
        print("duplicate case ids", file=sys.stderr)
        return 2
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    unsupported = []
    for case in cases:
        exp = convert(case, out_dir)
        if not exp["supported"]:
            unsupported.append((case["id"], exp["unsupported_reason"]))
    print(
        f"{len(cases)} cases -> {out_dir}: {len(cases) - len(unsupported)} supported, {len(unsupported)} unsupported"
    )
    for cid, why in unsupported:
        print(f"  unsupported {cid}: {why}")
    if args.check:
        return check(out_dir)
    return 0


def check(out_dir: Path) -> int:
    """Load every converted world with the project's loader; report what it rejects."""
    from kmsprove.errors import InputError
    from kmsprove.inputs import load_world

    bad = 0
    for world in sorted(out_dir.glob("*/world.json")):
        try:
            load_world(world)
        except InputError as exc:
            bad += 1
            for d in exc.diagnostics:
                print(f"{world.parent.name}: {d}")
    print(f"load_world: {bad} world(s) rejected")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

"""AST stage, validation: principals of policy statements and grants (R2, R4.1, R4.3).

Pure checks on `Statement` / principal strings -> `Diagnostic`s; called by
`kmsprove.validate`. Each problem is positioned at the principal's value.
"""

from __future__ import annotations

import re
from functools import lru_cache

from kmsprove.arn import ACCOUNT_RE, PARTITIONS, REGION_RE, UNIQUE_ID_RE, parse_arn
from kmsprove.ast import Condition, Effect, Policy, PolicyKind, Principal, SetOp, Statement
from kmsprove.errors import Diagnostic, Severity, SourcePos, error, suggest, warning
from kmsprove.operators import OPERATORS

# IAM names: letters, digits and `+=,.@_-`; paths: `/`-separated printable ASCII.
_NAME = r"[\w+=,.@-]+"
IAM_RESOURCE_RE = re.compile(rf"(user|role)(/[\x21-\x7e]*)?/{_NAME}", re.ASCII)
STS_RESOURCE_RE = re.compile(rf"assumed-role/{_NAME}/{_NAME}|federated-user/{_NAME}", re.ASCII)
# a session of a role AWS owns (`aws:ec2-infrastructure`), which grants may name
SERVICE_SESSION_RE = re.compile(rf"assumed-role/aws:{_NAME}/{_NAME}", re.ASCII)
SERVICE_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*(\.[A-Za-z0-9-]+)+")
# Service principal domains, with a Region of their partition for examples.
SERVICE_DOMAINS = {".amazonaws.com": "us-east-1", ".amazonaws.com.cn": "cn-north-1"}
# The label before the domain of `SERVICE.LABEL.amazonaws.com` is a Region in a regional
# name (`logs.us-east-1`) and a service in others (`delivery.logs`, `monitoring.rds`):
# only one that starts like a Region name (`us-`, `eu-`...) must be one.
REGION_PREFIX_RE = re.compile(r"(af|ap|ca|cn|eu|il|me|mx|sa|us)-")

# Conditions that tie `Principal: "*"` to known callers (R2.8): the caller's
# account, organization or ARN, or the service that calls for it.
RESTRICTING_KEYS = frozenset(
    k.lower()
    for k in (
        "kms:CallerAccount",
        "kms:ViaService",
        "aws:PrincipalAccount",
        "aws:PrincipalArn",
        "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths",
        "aws:PrincipalServiceName",
        "aws:SourceAccount",
        "aws:SourceArn",
        "aws:SourceOrgID",
        "aws:SourceOrgPaths",
        "aws:userid",
    )
)

# Conditions that tie a service principal to the account or resource it acts for
# (the confused deputy: https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html).
SERVICE_TYING_KEYS = frozenset(
    k.lower()
    for k in (
        "aws:SourceAccount",
        "aws:SourceArn",
        "aws:SourceOrgID",
        "aws:SourceOrgPaths",
        "kms:ViaService",
        "kms:CallerAccount",
    )
)
SERVICE_TYING_PREFIX = "kms:encryptioncontext:"

KIND_LABEL = {
    PolicyKind.KEY_POLICY: "a key policy",
    PolicyKind.IDENTITY: "an identity policy",
    PolicyKind.SESSION: "a session policy",
    PolicyKind.BUCKET: "a bucket policy",
    PolicyKind.SCP: "an SCP",
    PolicyKind.RCP: "an RCP",
    PolicyKind.VPCE: "a VPC endpoint policy",
    PolicyKind.TRUST: "a trust policy",
}


AWS_PRINCIPAL_FORMS = (
    "expected `*`, a 12-digit account id, or an IAM `root`, `user/NAME`, `role/NAME` "
    "or STS `assumed-role/ROLE/SESSION`, `federated-user/NAME` ARN"
)


@lru_cache(maxsize=65_536)  # grants and policies repeat the same principals
def caller_arn_problem(
    value: str, forms: str = AWS_PRINCIPAL_FORMS, service_sessions: bool = False
) -> str | None:
    """Why `value` is not an account, user, role, session or federated-user ARN (with
    `service_sessions`, a session of a role AWS owns is one too)."""
    a = parse_arn(value)
    expected = f"`{value}` is not a valid principal: {forms}"
    if a is None:
        return expected
    if a.partition not in PARTITIONS:
        return f"`{value}`: unknown partition `{a.partition}`" + suggest(a.partition, PARTITIONS)
    if a.service not in ("iam", "sts"):
        return expected
    if a.region:
        return f"`{value}`: IAM and STS ARNs have no Region, found `{a.region}`"
    if not ACCOUNT_RE.fullmatch(a.account):
        return f"`{value}`: account `{a.account}` is not a 12-digit account id"
    if a.service == "iam":
        if a.resource == "root" or IAM_RESOURCE_RE.fullmatch(a.resource):
            return None
        if a.resource.startswith("group/"):
            return f"`{value}` is an IAM group: groups cannot be principals"
        return expected
    if service_sessions and SERVICE_SESSION_RE.fullmatch(a.resource):
        return None
    return None if STS_RESOURCE_RE.fullmatch(a.resource) else expected


def is_unique_id(value: str) -> bool:
    """`value` has the form of an IAM unique id AWS issues (AIDA..., AROA...)."""
    return UNIQUE_ID_RE.fullmatch(value) is not None


def unique_id_problem(value: str, kind: str) -> str | None:
    """Why `value` is not the unique id of a principal of `kind` (`user` or `role`)."""
    prefix = "AIDA" if kind == "user" else "AROA"
    if not UNIQUE_ID_RE.fullmatch(value):
        return f"`{value}` is not an IAM unique id (`{prefix}...` for a {kind})"
    if not value.startswith(prefix):
        return f"`{value}` is not a {kind}'s unique id: a {kind}'s starts with `{prefix}`"
    return None


def aws_principal_problem(value: str, element: str) -> tuple[Severity, str] | None:
    """An `AWS` principal entry's problem and its severity (R2.1-R2.5), or None."""
    if value == "*":
        return None
    if "*" in value:
        return (
            Severity.ERROR,
            f"partial wildcard `{value}` in `{element}`: only a bare `*` is a wildcard "
            '(use `"*"` with an `ArnLike` condition on `aws:PrincipalArn`)',
        )
    if UNIQUE_ID_RE.fullmatch(value):
        return (
            Severity.WARNING,
            f"`{value}` is a unique id, not an ARN: the principal it stood for was deleted, "
            "and it matches nobody, not even a re-created namesake",
        )
    problem = caller_arn_problem(value)
    if problem is not None:
        return (Severity.ERROR, problem)
    a = parse_arn(value)
    if a is not None and a.service == "iam" and a.resource.lower() == "user/root":
        return (
            Severity.WARNING,
            f"`{a.resource}` is an IAM user named {a.resource[5:]}, not the account: "
            f"the account is `arn:{a.partition}:iam::{a.account}:root`",
        )
    return None


def service_name_problem(value: str, what: str) -> str | None:
    if "*" in value:
        return f"wildcard in {what} `{value}`: service principals are exact names"
    if not SERVICE_NAME_RE.fullmatch(value):
        return f"`{value}` is not a service principal name (such as `cloudtrail.amazonaws.com`)"
    return None


def service_name_warning(value: str) -> str | None:
    """Why a well-formed service principal name (no `service_name_problem`) names no
    service: a Region placeholder, or a label that starts like a Region name but is not one."""
    for domain, region in SERVICE_DOMAINS.items():
        if not value.endswith(domain):
            continue
        *service, label = value.removesuffix(domain).split(".")
        if not service:
            return None
        example = f"`{'.'.join(service)}.{region}{domain}`"
        if "region" in label.lower():
            return (
                f"`{value}` is not a service principal: `{label}` stands for a Region name "
                f"(for example {example})"
            )
        if REGION_PREFIX_RE.match(label.lower()) and not REGION_RE.fullmatch(label):
            return (
                f"`{value}` is not a service principal: `{label}` is not a Region name "
                f"(for example {example})"
            )
    return None


def _entry(p: Principal, element: str, kind: PolicyKind) -> list[Diagnostic]:
    """Problems of one Principal/NotPrincipal entry."""
    out: list[Diagnostic] = []
    if p.kind == "AWS":
        found = aws_principal_problem(p.value, element)
        if found is not None:
            out.append(Diagnostic(p.pos, *found))
    elif p.kind == "Service":
        problem = service_name_problem(p.value, "service principal")
        if problem:
            out.append(error(p.pos, problem))
        elif (unreal := service_name_warning(p.value)) is not None:
            out.append(warning(p.pos, unreal))
    elif p.kind == "Federated":
        if kind is PolicyKind.KEY_POLICY:
            out.append(
                warning(
                    p.pos,
                    f"`Federated` principal `{p.value}` matches no KMS caller: "
                    "federated users call KMS as role sessions",
                )
            )
    elif p.kind == "CanonicalUser" and kind is not PolicyKind.BUCKET:
        out.append(
            warning(
                p.pos,
                f"`CanonicalUser` principal `{p.value}` is an S3 notion and matches no KMS caller",
            )
        )
    if kind is PolicyKind.RCP and element == "Principal" and not p.is_wildcard:
        out.append(error(p.pos, f'an RCP `Principal` must be `"*"`, not `{p.value}`'))
    return out


def _restricts_caller(c: Condition) -> bool:
    """A condition that only known callers can meet (absent key -> false)."""
    return (
        c.key.lower() in RESTRICTING_KEYS
        and c.base != "Null"
        and not OPERATORS[c.base].negated
        and not c.if_exists
        and c.set_op is not SetOp.FOR_ALL_VALUES
    )


def _ties_service(c: Condition) -> bool:
    """A condition that names the account, resource or request a service acts for."""
    key = c.key.lower()
    return (
        (key in SERVICE_TYING_KEYS or key.startswith(SERVICE_TYING_PREFIX))
        and c.base != "Null"
        and not OPERATORS[c.base].negated
    )


def _confused_deputy_problems(st: Statement, kind: PolicyKind) -> list[Diagnostic]:
    """A key or bucket policy Allow to a service principal with no condition tying the
    service to an account or resource: it may act for anyone's (the confused deputy)."""
    if (
        kind not in (PolicyKind.KEY_POLICY, PolicyKind.BUCKET)
        or st.effect is not Effect.ALLOW
        or any(_ties_service(c) for c in st.conditions)
    ):
        return []
    return [
        warning(
            p.pos,
            f"`{p.value}` may act for any account: no `aws:SourceAccount` or `aws:SourceArn` "
            "condition ties it to one (confused deputy)",
        )
        for p in st.principal or ()
        if p.kind == "Service"
        and service_name_problem(p.value, "service principal") is None
        and service_name_warning(p.value) is None
    ]


def _not_principal_exemptions(st: Statement) -> list[Diagnostic]:
    """Deny + NotPrincipal must also exempt the account (and the role of a session), R2.9/10.7."""
    listed = {p.value for p in st.not_principal or () if p.kind == "AWS"}
    arns = [a for a in map(parse_arn, listed) if a is not None]
    roles = {
        (a.account, a.resource.rsplit("/", 1)[-1]) for a in arns if a.resource.startswith("role/")
    }
    out: list[Diagnostic] = []
    for p in st.not_principal or ():
        a = parse_arn(p.value)
        if p.kind != "AWS" or a is None or caller_arn_problem(p.value) or a.resource == "root":
            continue
        root = f"arn:{a.partition}:iam::{a.account}:root"
        if root not in listed:
            out.append(
                warning(
                    p.pos,
                    f"`NotPrincipal` exempts `{p.value}` but not its account `{root}`: "
                    "AWS may check the account first and deny",
                )
            )
        if a.resource.startswith("assumed-role/"):
            role = a.resource.split("/")[1]
            if (a.account, role) not in roles:
                out.append(
                    warning(
                        p.pos,
                        f"`NotPrincipal` exempts session `{p.value}` but not its role "
                        f"`arn:{a.partition}:iam::{a.account}:role/{role}`: "
                        "AWS may check the role first and deny",
                    )
                )
    return out


def _element_pos(entries: tuple[Principal, ...] | None, st: Statement) -> SourcePos:
    return entries[0].pos if entries else st.pos


def statement_principal_problems(st: Statement, kind: PolicyKind) -> list[Diagnostic]:
    """Principal rules for one statement of a policy of `kind` (R2, R1.10)."""
    label = KIND_LABEL[kind]
    out: list[Diagnostic] = []
    if not kind.is_resource_policy:
        for element, entries in (("Principal", st.principal), ("NotPrincipal", st.not_principal)):
            if entries is not None:
                out.append(error(_element_pos(entries, st), f"{label} cannot have `{element}`"))
        return out
    if st.principal is None and st.not_principal is None:
        out.append(
            error(st.pos, f"statement has no `Principal`: every statement of {label} names one")
        )
    if st.not_principal is not None:
        if kind is PolicyKind.RCP:
            out.append(
                error(_element_pos(st.not_principal, st), "an RCP cannot have `NotPrincipal`")
            )
        elif st.effect is Effect.ALLOW:
            out.append(
                error(
                    _element_pos(st.not_principal, st),
                    '`NotPrincipal` works only with `"Effect": "Deny"`',
                )
            )
        else:
            out.extend(_not_principal_exemptions(st))
    for element, entries in (("Principal", st.principal), ("NotPrincipal", st.not_principal)):
        for p in entries or ():
            out.extend(_entry(p, element, kind))
    out.extend(_confused_deputy_problems(st, kind))
    if (
        kind is PolicyKind.KEY_POLICY
        and st.effect is Effect.ALLOW
        and not any(_restricts_caller(c) for c in st.conditions)
    ):
        out.extend(
            warning(
                p.pos,
                '`Principal: "*"` allows every principal of every AWS account: restrict it '
                "with a condition on `kms:CallerAccount`, `aws:PrincipalOrgID`, "
                "`aws:PrincipalArn` or `kms:ViaService`",
            )
            for p in st.principal or ()
            if p.is_wildcard
        )
    return out


def policy_principal_problems(policy: Policy) -> list[Diagnostic]:
    """A key policy none of whose statements names a principal is another kind of policy."""
    if (
        policy.kind is PolicyKind.KEY_POLICY
        and policy.statements
        and all(st.principal is None and st.not_principal is None for st in policy.statements)
    ):
        return [
            warning(
                policy.pos,
                "no statement names a principal: this looks like an identity policy or an SCP, "
                "not a key policy (use `--kind scp` or `--kind identity-policy`)",
            )
        ]
    return []

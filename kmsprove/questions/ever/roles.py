"""sts:AssumeRole: a role a covered principal may assume acts for it."""

from __future__ import annotations

from kmsprove.answer import Answer, Verdict
from kmsprove.ast import Who, WhoKind
from kmsprove.questions.ever.callers import assumable_roles, refuses
from kmsprove.questions.ever.search import Search
from kmsprove.questions.ever.trace import Step, step
from kmsprove.request import Request


def assume_step(by: str, role_arn: str, why: str) -> Step:
    """The evaluator decides KMS and IAM requests, not STS ones: the replay checks the
    role's trust policy as the world then has it."""
    return step(
        Request(by, "sts:AssumeRole", resource=role_arn),
        lambda w: w,
        f"{by} assumes {role_arn}: {why}",
        {"RoleArn": role_arn},
        assumed=True,
        check=lambda w: refuses(w, role_arn, by),
    )


def via_assume_role(search: Search) -> Answer | None:
    unknown = None
    for a in assumable_roles(search.world, search.query):
        today = search.solve(
            search.query.actions,
            *search.query.conditions,
            who=Who(WhoKind.PRINCIPAL, pattern=a.role.arn),
            untrusted=False,
        )
        if today.verdict is Verdict.UNKNOWN:
            unknown = search.unknown(f"whether role `{a.role.arn}` can do it: {today.reason}")
            continue
        if today.verdict is Verdict.YES and today.counterexample is not None:
            return search.finish(
                [assume_step(a.by, a.role.arn, a.why)],
                today.counterexample,
                f"{a.by} assumes `{a.role.arn}`, which {today.reason}",
            )
    search.progress.append("roles others may assume")
    return unknown

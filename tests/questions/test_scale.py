"""What makes a shared key's questions fast must not change their answers: the key cut
down to what the question's actions reach (`kmsprove.encode.static`) and a large
universe asked in parts (`kmsprove.questions.today.parts`).

Verdicts here are decided from the documents and AWS's rules (R1.4, R4.2, R4.7), not
from what the code prints; the generated worlds compare each shortcut with the plain
run of the same question."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kmsprove.answer import Verdict
from kmsprove.ast import Query, Who, WhoKind
from kmsprove.encode import static
from kmsprove.encode.static import world_for
from kmsprove.encode.universe import build_universe
from kmsprove.errors import InputError
from kmsprove.evaluate import evaluate
from kmsprove.evaluate.context import complete_request
from kmsprove.inputs.world_file import load_world_json
from kmsprove.questions import formulas, today
from kmsprove.questions.ask import ask
from kmsprove.request import Context, Request
from kmsprove.solve.decode import witness_world
from kmsprove.syntax.query import parse_query
from tests.support.strategies import one_key_world, worlds

A = "111122223333"
ORG = "o-shared0000"
KEY = f"arn:aws:kms:us-east-1:{A}:key/5ba7e1c2-3d4f-4a5b-8c6d-7e8f9a0b1c2d"


def _partner(i: int) -> str:
    return f"{200000000000 + i:012d}"


def shared_world(grants: int = 60, statements: int = 8, roles: int = 12, leak: bool = False) -> Any:
    """A shared key in miniature: partners that may only encrypt (key policy, under an
    encryption-context condition), grants to other accounts' consumers for Encrypt
    (half under a constraint), the account's own roles reading under their context."""
    policy = [
        {
            "Sid": "Root",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ] + [
        {
            "Sid": f"P{i}",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{_partner(i)}:role/w"},
            "Action": ["kms:Encrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:EncryptionContext:t": f"t{i}"}},
        }
        for i in range(statements)
    ]
    gs: list[dict[str, Any]] = []
    for i in range(grants):
        g: dict[str, Any] = {"KeyId": KEY, "GrantId": f"{i:064x}", "IssuingAccount": A}
        if i % 3 == 0:
            k = i // 3
            g["GranteePrincipal"] = f"arn:aws:iam::{_partner(1000 + k)}:role/consumer"
            g["Operations"] = ["Encrypt", "GenerateDataKey"]
            if k % 2 == 0:
                g["Constraints"] = {"EncryptionContextSubset": {"partner": f"p{k}"}}
        else:
            g["GranteePrincipal"] = f"arn:aws:iam::{A}:role/app-{i % roles}"
            g["Operations"] = ["Decrypt", "Encrypt"]
            g["Constraints"] = {"EncryptionContextSubset": {"app": f"app-{i % roles}"}}
        gs.append(g)
    if leak:
        gs.append(
            {
                "KeyId": KEY,
                "GrantId": "f" * 64,
                "GranteePrincipal": f"arn:aws:iam::{_partner(9999)}:role/consumer",
                "IssuingAccount": A,
                "Operations": ["Decrypt"],
                "Constraints": {"EncryptionContextSubset": {"partner": "p9999"}},
            }
        )
    principals = {
        f"arn:aws:iam::{A}:role/app-{i}": {
            "policies": [
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": ["kms:Decrypt", "kms:Encrypt"],
                            "Resource": KEY,
                            "Condition": {
                                "StringEquals": {"kms:EncryptionContext:app": f"app-{i}"}
                            },
                        }
                    ],
                }
            ]
        }
        for i in range(roles)
    }
    return load_world_json(
        {
            "version": 1,
            "keys": [
                {
                    "arn": KEY,
                    "policy": {"Version": "2012-10-17", "Statement": policy},
                    "grants": gs,
                }
            ],
            "accounts": {A: {"complete": True, "organization": ORG, "principals": principals}},
        }
    )


@pytest.fixture(params=["whole", "parts"])
def split(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every question below is asked twice: the universe whole, and in parts of one class."""
    if request.param == "parts":
        monkeypatch.setattr(today, "LIGHT", 1)
        monkeypatch.setattr(today, "HEAVY", 1)
    return str(request.param)


def _one(world: Any, text: str) -> Any:
    [answer] = ask(world, parse_query(text), timeout=60)
    return answer


def _allowed(world: Any, answer: Any) -> bool:
    """The evaluator allows the witness in the world, with what the answer assumed of
    an unnamed caller's identity policies (an open account's administrators choose)."""
    r = answer.counterexample
    assert r is not None
    checked = witness_world(world, r, dict(answer.assumed or {}))
    return evaluate(checked, complete_request(checked, r)).allowed


def test_outside_decrypt_is_no_when_partners_may_only_encrypt(split: str) -> None:
    world = shared_world()
    answer = _one(world, f"can any principal outside account {A} kms:Decrypt")
    assert answer.verdict is Verdict.NO, answer.reason


def test_outside_decrypt_finds_the_one_grant_that_leaks(split: str) -> None:
    world = shared_world(leak=True)
    answer = _one(world, f"can any principal outside account {A} kms:Decrypt")
    assert answer.verdict is Verdict.YES, answer.reason
    r = answer.counterexample
    assert r.principal.startswith(f"arn:aws:sts::{_partner(9999)}:assumed-role/consumer/")
    assert r.context.get("kms:EncryptionContext:partner") == ("p9999",)
    assert _allowed(world, answer)
    # with the partner's constraint excluded by the question, nobody outside can
    other = _one(
        world,
        f'can any principal outside account {A} kms:Decrypt where kms:EncryptionContext:partner == "p7"',
    )
    assert other.verdict is Verdict.NO, other.reason


def test_anyone_and_outside_org(split: str) -> None:
    world = shared_world()
    anyone = _one(world, "can anyone kms:Decrypt")
    assert anyone.verdict is Verdict.YES and _allowed(world, anyone)
    # CreateGrant: only the account's root statement allows it; every principal of
    # the account carries aws:PrincipalOrgID = o-shared0000
    org = _one(world, f"can any principal outside org {ORG} kms:CreateGrant")
    assert org.verdict is Verdict.NO, org.reason
    # partners may encrypt under their own tenant context only
    enc = _one(
        world,
        f'can any principal outside account {A} kms:Encrypt where kms:EncryptionContext:t == "t3"',
    )
    assert enc.verdict is Verdict.YES and _allowed(world, enc)


def test_app_roles_need_their_own_context(split: str) -> None:
    """Many classes with identity documents (the heavy parts): app-5 reads under
    app=app-5 (its IAM policy and its grant), nobody under a context no role has."""
    world = shared_world()
    yes = _one(
        world,
        f'can principal arn:aws:iam::{A}:role/app-* kms:Decrypt where kms:EncryptionContext:app == "app-5"',
    )
    assert yes.verdict is Verdict.YES and _allowed(world, yes)
    assert "/app-5/" in yes.counterexample.principal
    no = _one(
        world,
        f'can principal arn:aws:iam::{A}:role/app-* kms:Decrypt where kms:EncryptionContext:app == "zzz"',
    )
    assert no.verdict is Verdict.NO, no.reason


def test_the_cut_key_drops_what_the_actions_cannot_reach() -> None:
    world = shared_world(grants=30, statements=4)
    key = world.keys[0]
    seen, cut = world_for(world, key, ["kms:Decrypt"])
    assert all("Decrypt" in g.operations for g in cut.grants)
    assert len(cut.grants) == 20  # the account's own grants; no partner grant decrypts
    assert [st.sid for st in cut.policy.statements] == ["Root"]
    u = build_universe(seen, cut, parse_query(f"can any principal outside account {A} kms:Decrypt"))
    assert u.accounts == [A]  # no partner account is mentioned by what is left
    _, whole = world_for(world, key, ["kms:Encrypt"])
    assert len(whole.grants) == 30 and len(whole.policy.statements) == 5


def test_retiregrant_keeps_every_grant() -> None:
    """Any grant's retiring principal may retire it, whatever its operations (R4.7)."""
    retiring = f"arn:aws:iam::{_partner(42)}:role/retirer"
    world = load_world_json(
        {
            "version": 1,
            "keys": [
                {
                    "arn": KEY,
                    "policy": {"Version": "2012-10-17", "Statement": []},
                    "grants": [
                        {
                            "KeyId": KEY,
                            "GrantId": "a" * 64,
                            "GranteePrincipal": f"arn:aws:iam::{A}:role/app-1",
                            "RetiringPrincipal": retiring,
                            "IssuingAccount": A,
                            "Operations": ["Encrypt"],
                        }
                    ],
                }
            ],
        }
    )
    answer = _one(world, f"can any principal outside account {A} kms:RetireGrant")
    assert answer.verdict is Verdict.YES, answer.reason
    assert answer.counterexample.principal.startswith(
        f"arn:aws:sts::{_partner(42)}:assumed-role/retirer/"
    )
    assert _allowed(world, answer)


def test_a_deny_for_the_asked_action_stays() -> None:
    """A Deny whose Action matches stays in the cut key; one that cannot match goes."""
    partner = _partner(7)
    world = load_world_json(
        {
            "version": 1,
            "keys": [
                {
                    "arn": KEY,
                    "policy": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "Partner",
                                "Effect": "Allow",
                                "Principal": {"AWS": f"arn:aws:iam::{partner}:root"},
                                "Action": "kms:*",
                                "Resource": "*",
                            },
                            {
                                "Sid": "NoDecrypt",
                                "Effect": "Deny",
                                "Principal": "*",
                                "NotAction": ["kms:Encrypt", "kms:GenerateDataKey*"],
                                "Resource": "*",
                                "Condition": {"StringNotEquals": {"aws:PrincipalAccount": A}},
                            },
                        ],
                    },
                }
            ],
        }
    )
    assert _one(world, f"can any principal outside account {A} kms:Decrypt").verdict is Verdict.NO
    enc = _one(world, f"can any principal outside account {A} kms:Encrypt")
    assert enc.verdict is Verdict.YES and _allowed(world, enc)


QUESTIONS = (
    Query(Who(WhoKind.ANYONE), ("kms:Decrypt",)),
    Query(Who(WhoKind.OUTSIDE_ACCOUNTS, accounts=("111122223333",)), ("kms:Decrypt",)),
    Query(Who(WhoKind.ANYONE), ("kms:CreateGrant",)),
    Query(Who(WhoKind.ANYONE), ("kms:RetireGrant",)),
)


@settings(max_examples=25, deadline=None)
@given(worlds(), st.sampled_from(QUESTIONS))
def test_parts_and_cuts_answer_as_the_whole(doc: dict[str, Any], query: Query) -> None:
    """On generated worlds: the universe in parts of one class, and the key not cut at
    all, give the verdict of the plain run (an unknown on either side proves nothing)."""
    try:
        world = load_world_json(doc)
    except InputError:
        return
    plain = [a.verdict for a in ask(world, query, timeout=20)]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(today, "LIGHT", 1)
        mp.setattr(today, "HEAVY", 1)
        split = [a.verdict for a in ask(world, query, timeout=20)]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(today, "world_for", lambda w, k, s, q: (w, k))
        uncut = [a.verdict for a in ask(world, query, timeout=20)]
    for p, s, u in zip(plain, split, uncut, strict=True):
        if Verdict.UNKNOWN not in (p, s, u):
            assert p == s == u, (p, s, u)


def test_a_request_the_shared_world_allows_is_allowed_by_aws_rules() -> None:
    """Hand-decided: app-3 reading under its own context is allowed (its identity
    policy, and the root statement delegating to IAM, R1.4); a partner's consumer is
    refused Decrypt (its grant lists Encrypt and GenerateDataKey only, R4.2)."""
    world = shared_world()
    ok = Request(
        f"arn:aws:sts::{A}:assumed-role/app-3/s",
        "kms:Decrypt",
        key=KEY,
        context=Context.of({"kms:EncryptionContext:app": "app-3"}),
    )
    assert evaluate(world, complete_request(world, ok)).allowed
    consumer = Request(
        f"arn:aws:sts::{_partner(1000)}:assumed-role/consumer/s",
        "kms:Decrypt",
        key=KEY,
        context=Context.of({"kms:EncryptionContext:partner": "p0"}),
    )
    assert not evaluate(world, complete_request(world, consumer)).allowed


def _shortcuts_off(mp: pytest.MonkeyPatch) -> None:
    """The plain run: no syntactic "no", no concrete "yes", no `where` restriction."""
    mp.setattr(today, "maybe_covered", lambda key, u, names: True)
    mp.setattr(formulas, "may_allow", lambda key, u, sym: True)
    mp.setattr(today, "concrete_yes", lambda *args: None)
    mp.setattr(static, "_where_may_hold", lambda query, ea: True)
    mp.setattr(static, "_excluded", lambda st, query: False)


WHERE_QUESTIONS = (
    'can anyone kms:ScheduleKeyDeletion where aws:PrincipalAccount != "111122223333"',
    'can anyone kms:Decrypt where kms:CallerAccount == "444455556666"',
    'can anyone kms:Decrypt where aws:PrincipalAccount == "999999999999"',
    "can principal arn:aws:iam::111122223333:root kms:PutKeyPolicy",
    "can any principal in account 444455556666 kms:Decrypt",
    "can any principal outside account 111122223333 kms:CreateGrant",
    'can anyone kms:Encrypt where kms:EncryptionContext:Dept == "IT"',
    # statements under StringEquals on the org, the caller's account, kms:ViaService
    "can any principal outside org o-aaaaaaaaaa kms:Decrypt",
    "can any principal outside account 111122223333 kms:Decrypt",
    "can any principal outside account 444455556666,777788889999 kms:Decrypt",
    'can anyone kms:Decrypt where kms:ViaService != "s3.us-east-1.amazonaws.com"',
    "can anyone kms:Decrypt where not has kms:ViaService",
)


@settings(max_examples=60, deadline=None)
@given(worlds(), st.sampled_from(WHERE_QUESTIONS))
def test_shortcuts_answer_as_the_solver(doc: dict[str, Any], text: str) -> None:
    """On generated worlds: the syntactic "no" (`may_allow`), the concrete "yes"
    (`concrete_yes`), the `where` restriction on the caller's account and the Allow
    statements whose conditions the question rules out (`static._excluded`) give the
    verdict the solver gives without them."""
    try:
        world = load_world_json(doc)
    except InputError:
        return
    query = parse_query(text)
    fast = [a.verdict for a in ask(world, query, timeout=20)]
    with pytest.MonkeyPatch.context() as mp:
        _shortcuts_off(mp)
        slow = [a.verdict for a in ask(world, query, timeout=20)]
    for f, s in zip(fast, slow, strict=True):
        if Verdict.UNKNOWN not in (f, s):
            assert f == s, (text, f, s)


def test_where_on_the_callers_account_restricts_the_callers() -> None:
    """`aws:PrincipalAccount != A` leaves out A's principals (their value is A, R5.3)
    and keeps services (the key is absent for them, so `!=` holds)."""
    partner = _partner(5)
    statements = [
        {
            "Sid": "Root",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    world = _key_world(*statements)
    q = f'can anyone kms:Decrypt where aws:PrincipalAccount != "{A}"'
    assert _one(world, q).verdict is Verdict.NO
    statements.append(
        {
            "Sid": "Partner",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{partner}:root"},
            "Action": "kms:Decrypt",
            "Resource": "*",
        }
    )
    world = _key_world(*statements)
    yes = _one(world, q)
    assert yes.verdict is Verdict.YES and _allowed(world, yes)
    assert f":{partner}:" in yes.counterexample.principal
    # ScheduleKeyDeletion is not among the operations KMS runs across accounts (R3.2)
    across = f'can anyone kms:ScheduleKeyDeletion where aws:PrincipalAccount != "{A}"'
    assert _one(world, across).verdict is Verdict.NO


def test_the_concrete_yes_is_the_named_principals_plain_request() -> None:
    world = shared_world()
    answer = _one(world, f"can principal arn:aws:iam::{A}:root kms:PutKeyPolicy")
    assert answer.verdict is Verdict.YES
    assert answer.counterexample.principal == f"arn:aws:iam::{A}:root"
    assert _allowed(world, answer)
    # a role of the complete account the account does not list cannot be the caller
    absent = _one(world, f"can principal arn:aws:iam::{A}:role/nobody kms:PutKeyPolicy")
    assert absent.verdict is Verdict.NO, absent.reason


def test_an_accounts_identities_replaced_in_place_index_as_rebuilt() -> None:
    """`Account.with_principals` (the replay's step) gives the account a rebuild gives."""
    world = shared_world(roles=30)
    acct = world.accounts[A]
    old = acct.principals[f"arn:aws:iam::{A}:role/app-3"]
    new = replace(old, policies=())
    added = replace(old, arn=f"arn:aws:iam::{A}:role/extra")
    mine = acct.with_principals({old.arn: new, added.arn: added})
    rebuilt = replace(acct, principals={**acct.principals, old.arn: new, added.arn: added})
    assert mine == rebuilt
    assert dict(mine.by_name) == dict(rebuilt.by_name)
    assert mine.by_name[("role", "app-3")].policies == ()


def test_thousands_of_open_accounts_are_summarised_in_text_and_listed_in_json() -> None:
    """A shared key names an account per partner: text shows the first few and the
    count of the rest, JSON every one."""
    from kmsprove.report.answer import answers_json, render_answers

    world = shared_world(grants=120, statements=2)
    answers = ask(world, parse_query(f"can any principal outside account {A} kms:Encrypt"), 60)
    opens = answers[0].open_accounts
    assert len(opens) > 25
    text = render_answers(answers, world.file)
    [line] = [ln for ln in text.splitlines() if "open accounts assumed" in ln]
    assert line.endswith(f"and {len(opens) - 20:,} more (--format json lists them)")
    assert opens[19] in line and opens[20] not in line
    assert answers_json(answers)["assumptions"]["open_accounts"] == list(opens)


def _key_world(*statements: dict[str, Any], org: bool = False) -> Any:
    accounts = {A: {"organization": ORG}} if org else {}
    return load_world_json(one_key_world(*statements, accounts=accounts, key=KEY))


def _anyone_if(op: str, key: str, *values: str) -> dict[str, Any]:
    return {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {op: {key: list(values)}},
    }


@pytest.mark.parametrize(
    ("statement", "question", "verdict"),
    [
        # the caller's account must be A: nobody outside A; B is outside A
        (_anyone_if("StringEquals", "kms:CallerAccount", A), f"outside account {A}", "no"),
        (
            _anyone_if("StringEquals", "kms:CallerAccount", _partner(1)),
            f"outside account {A}",
            "yes",
        ),
        (
            _anyone_if("StringEquals", "aws:PrincipalAccount", A, _partner(1)),
            f"outside account {A}",
            "yes",
        ),
        # IfExists: a service caller has no kms:CallerAccount and passes (R6.5)
        (_anyone_if("StringEqualsIfExists", "kms:CallerAccount", A), f"outside account {A}", "yes"),
        # the caller's organization must be O: nobody outside O
        (_anyone_if("StringEquals", "aws:PrincipalOrgID", ORG), f"outside org {ORG}", "no"),
        (
            _anyone_if("StringEquals", "aws:PrincipalOrgID", "o-other00000"),
            f"outside org {ORG}",
            "yes",
        ),
    ],
)
def test_statements_whose_conditions_the_question_rules_out(
    statement: dict[str, Any], question: str, verdict: str
) -> None:
    world = _key_world(statement, org=True)
    answer = _one(world, f"can any principal {question} kms:Decrypt")
    assert answer.verdict.value == verdict, answer.reason
    if verdict == "yes":
        assert _allowed(world, answer)


@pytest.mark.parametrize(
    ("where", "verdict"),
    [
        ('kms:ViaService != "s3.us-east-1.amazonaws.com"', "no"),
        ('kms:ViaService != "ec2.us-east-1.amazonaws.com"', "yes"),
        ("not has kms:ViaService", "no"),
    ],
)
def test_statements_whose_conditions_the_where_rules_out(where: str, verdict: str) -> None:
    world = _key_world(_anyone_if("StringEquals", "kms:ViaService", "s3.us-east-1.amazonaws.com"))
    answer = _one(world, f"can anyone kms:Decrypt where {where}")
    assert answer.verdict.value == verdict, answer.reason
    if verdict == "yes":
        assert _allowed(world, answer)


def test_a_concrete_caller_never_carries_a_pinned_value_aws_derives_otherwise() -> None:
    """`where aws:PrincipalIsAWSService == "true"` asks about services: a partner's
    root user, whose value AWS derives as "false", is no witness (it once was, with the
    pin pasted over the derived value)."""
    world = _key_world(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{_partner(3)}:root"},
            "Action": "kms:Decrypt",
            "Resource": "*",
        }
    )
    q = f'can any principal outside account {A} kms:Decrypt where aws:PrincipalIsAWSService == "true"'
    answer = _one(world, q)
    assert answer.verdict is Verdict.NO, answer.counterexample
    plain = _one(world, f"can any principal outside account {A} kms:Decrypt")
    assert plain.verdict is Verdict.YES
    assert plain.counterexample.principal == f"arn:aws:iam::{_partner(3)}:root"

"""`build_graph` on worlds from AWS documentation policies: the nodes and edges each
must have, with their operations and the file:line of the statement, identity policy or
grant that lets them through; the overlays (`ever` traces, highlights)."""

from __future__ import annotations

from kmsprove.answer import Verdict
from kmsprove.questions.ask import ask
from kmsprove.questions.graph import EdgeKind, FindingRow, Highlight, NodeKind, edge_label
from kmsprove.questions.graph.model import highlighted
from kmsprove.syntax.query import parse_query
from tests.questions.graph.worlds import KEY_E, KEY_W, graph_of, load, row, short_ops

A, B = "111122223333", "444455556666"
KW, KE = f"key:{KEY_W}", f"key:{KEY_E}"

READ = short_ops(
    "DescribeKey",
    "GetKeyLastUsage",
    "GetKeyPolicy",
    "GetKeyRotationStatus",
    "GetParametersForImport",
    "ListGrants",
    "ListKeyPolicies",
    "ListKeyRotations",
    "ListResourceTags",
)
USE = short_ops(
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateDataKeyWithoutPlaintext",
    "ReEncryptFrom",
    "ReEncryptTo",
)


def test_the_default_key_policy_delegates_to_the_account_and_iam_decides_who() -> None:
    g = graph_of("default")
    assert {(n.id, n.kind, n.label) for n in g.nodes} == {
        (KW, NodeKind.KEY, "key 1234abcd-12ab-34cd-56ef-1234567890ab (alias/app)"),
        (f"account:{A}", NodeKind.ACCOUNT, f"any principal of account {A}"),
        (
            f"principal:arn:aws:iam::{A}:user/ExampleUser",
            NodeKind.PRINCIPAL,
            f"arn:aws:iam::{A}:user/ExampleUser",
        ),
        (
            f"principal:arn:aws:iam::{A}:role/Auditor",
            NodeKind.PRINCIPAL,
            f"arn:aws:iam::{A}:role/Auditor",
        ),
    }  # role/Nobody has no identity policy: IAM lets it do nothing, so it is not drawn
    [root] = [e for e in g.edges if e.kind is EdgeKind.STATEMENT]
    assert row(root)[:4] == ("statement", f"account:{A}", KW, "Enable IAM User Permissions")
    assert root.all_operations and not root.decided
    assert row(root)[5] == ("tests/data/graph/default/key-policy.json:5",)
    assert edge_label(root) == (
        "Enable IAM User Permissions: kms:* (tests/data/graph/default/key-policy.json:5)"
    )
    delegations = {row(e) for e in g.edges if e.kind is EdgeKind.DELEGATION}
    user, auditor = (
        f"principal:arn:aws:iam::{A}:user/ExampleUser",
        f"principal:arn:aws:iam::{A}:role/Auditor",
    )
    reader, use = (
        "tests/data/graph/default/reader-policy.json:4",
        "tests/data/graph/default/user-policy.json:4",
    )
    assert delegations == {
        ("delegation", user, f"account:{A}", "identity policy", READ, (reader,), ()),
        ("delegation", user, f"account:{A}", "identity policy", USE, (use,), ()),
        ("delegation", auditor, f"account:{A}", "identity policy", READ, (reader,), ()),
    }
    assert all(e.decided for e in g.edges if e.kind is EdgeKind.DELEGATION)


def test_the_console_policy_names_key_administrators_and_users() -> None:
    g = graph_of("console")
    admin, user = (
        f"principal:arn:aws:iam::{A}:role/KeyAdmin",
        f"principal:arn:aws:iam::{A}:role/KeyUser",
    )
    rows = {row(e)[:4] + row(e)[5:] for e in g.edges}
    f = "tests/cases/realworld/console-default.json"
    assert rows == {
        ("statement", f"account:{A}", KE, "Enable IAM User Permissions", (f"{f}:5",), ()),
        ("statement", admin, KE, "Allow access for Key Administrators", (f"{f}:6",), ()),
        ("statement", user, KE, "Allow use of the key", (f"{f}:8",), ()),
        (
            "statement",
            user,
            KE,
            "Allow attachment of persistent resources",
            (f"{f}:10",),
            ("kms:GrantIsForAWSResource Bool true",),
        ),
    }
    by = {e.through: e for e in g.edges}
    assert set(by["Allow use of the key"].operations) == {*USE, "kms:DescribeKey"}
    admin_ops = set(by["Allow access for Key Administrators"].operations)
    assert {"kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:CreateGrant"} <= admin_ops
    assert not admin_ops & {"kms:Decrypt", "kms:Encrypt"}  # administrators do not use the key
    assert by["Allow attachment of persistent resources"].operations == short_ops(
        "CreateGrant", "ListGrants", "RevokeGrant"
    )


def test_cross_account_delegation_needs_the_other_accounts_identity_policy() -> None:
    g = graph_of("cross-account")
    reader = f"principal:arn:aws:iam::{B}:role/Reader"
    f = "examples/cross-account"
    use = tuple(sorted({*USE, "kms:DescribeKey"}))
    assert (
        "statement",
        f"account:{B}",
        KW,
        "Allow use of the key",
        use,
        (f"{f}/key-policy.json:14",),
        (),
    ) in {row(e) for e in g.edges}
    [delegation] = [e for e in g.edges if e.kind is EdgeKind.DELEGATION]
    assert row(delegation) == (
        "delegation",
        reader,
        f"account:{B}",
        "identity policy",
        use,
        (f"{f}/reader-policy.json:4",),
        (),
    )
    # the Auditor of the same account has no identity policy: no way in
    assert all("Auditor" not in n.id for n in g.nodes)
    # the grant statement is cross-account too, with its condition
    grants = next(e for e in g.edges if e.through == "Allow attachment of persistent resources")
    assert grants.source == f"account:{B}"
    assert grants.conditions == ("kms:GrantIsForAWSResource Bool true",)


def test_grants_and_a_grant_chain() -> None:
    g = graph_of("grants")
    f = "tests/data/graph/grants/world.json"
    app, worker = (
        f"principal:arn:aws:iam::{A}:role/AppRole",
        f"principal:arn:aws:iam::{B}:role/Worker",
    )
    g1 = "0c237476b39f8bc44e45212e08498fbe3151305030726c0590dd8d3e9f3d6a60"
    g2 = "abcde1237f76e4ba7987489ac329fbfba6ad343d6f7075dbd1ef191f0120514a"
    g3 = "9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e"
    ec = ("EncryptionContextSubset Department=IT",)
    chain = f"regrantee:{KEY_W}:{g1}"
    rows = {row(e) for e in g.edges if e.kind is not EdgeKind.STATEMENT}
    assert rows == {
        (
            "grant",
            app,
            KW,
            f"grant {g1}",
            short_ops("CreateGrant", "Decrypt", "GenerateDataKey"),
            (f"{f}:19",),
            ec,
        ),
        ("grant", worker, KW, f"grant {g2}", short_ops("Decrypt"), (f"{f}:28",), ec),
        (
            "grant",
            "service:rds.us-west-2.amazonaws.com@*",
            KW,
            f"grant {g3}",
            short_ops("Decrypt", "Encrypt"),
            (f"{f}:36",),
            (),
        ),
        (
            "chain",
            chain,
            app,
            f"CreateGrant of grant {g1}",
            short_ops("CreateGrant", "Decrypt", "GenerateDataKey"),
            (f"{f}:19",),
            ec,
        ),
    }
    assert g.node(chain).kind is NodeKind.REGRANTEE
    assert (
        g.node(chain).label
        == f"whoever arn:aws:iam::{A}:role/AppRole passes grant 0c237476b39f… on to"
    )
    assert g.node("service:rds.us-west-2.amazonaws.com@*").label == (
        "service rds.us-west-2.amazonaws.com for any account"
    )


def test_a_service_principal_pinned_by_source_account_acts_for_that_account() -> None:
    g = graph_of("service")
    [svc] = [n for n in g.nodes if n.kind is NodeKind.SERVICE]
    assert (svc.id, svc.label, svc.account) == (
        f"service:sns.amazonaws.com@{A}",
        f"service sns.amazonaws.com for account {A}",
        A,
    )
    [e] = [e for e in g.edges if e.source == svc.id]
    assert row(e) == (
        "statement",
        svc.id,
        KE,
        "Allow SNS to use the key for this account only",
        short_ops("Decrypt", *(o.split(":")[1] for o in USE if "GenerateDataKey" in o)),
        ("tests/data/graph/service/key-policy.json:13",),
        (f"aws:SourceAccount StringEquals {A}",),
    )


def test_an_unpinned_service_acts_for_any_account() -> None:
    g = graph_of("default")
    assert not [n for n in g.nodes if n.kind is NodeKind.SERVICE]
    cloudtrail = graph_of("ebs")  # no service principal: only kms:ViaService
    [via] = [n for n in cloudtrail.nodes if n.kind is NodeKind.VIA_SERVICE]
    assert via.label == f"ec2.us-west-2.amazonaws.com acting for account {A} (kms:ViaService)"
    kinds = {(e.kind.value, e.source, e.target) for e in cloudtrail.edges}
    assert ("via", f"account:{A}", via.id) in kinds  # Principal * narrowed by kms:CallerAccount
    assert ("statement", via.id, KE) in kinds
    assert "anyone" not in {n.id for n in cloudtrail.nodes}


def test_one_key_of_several_and_an_unknown_key() -> None:
    g = graph_of("default", key="alias/app")
    assert g.keys == (KEY_W,)
    try:
        graph_of("default", key="alias/other")
    except Exception as exc:  # InputError
        assert "no key `alias/other`" in str(exc)
    else:
        raise AssertionError("an unknown key is bad input")


def test_an_ever_trace_is_a_path_from_the_first_caller_to_the_key() -> None:
    world = load("default")
    [answer] = ask(
        world, parse_query(f"can any principal outside account {A} ever kms:Decrypt"), 30.0, ()
    )
    assert answer.verdict is Verdict.YES and answer.trace
    g = graph_of("default", traces=[answer])
    trace = [e for e in g.edges if e.kind is EdgeKind.TRACE]
    first = answer.trace[0]
    assert trace[0].source == f"principal:{first['principal']}"
    assert trace[0].trace == 1 and trace[0].through.startswith("trace 1: step 1")
    assert first["action"] in trace[0].operations
    assert trace[-1].target == KW and "kms:Decrypt" in trace[-1].operations
    assert [e.target for e in trace[:-1]] == [e.source for e in trace[1:]]  # a path
    assert g.node(trace[0].source).label == f"root user of account {A}"


def test_highlights_colour_the_edges_a_finding_names() -> None:
    g = graph_of("default", highlight=[("tests/data/graph/default/user-policy.json", 4)])
    hot = [row(e) for e in g.edges if e.highlighted]
    assert [h[5] for h in hot] == [("tests/data/graph/default/user-policy.json:4",)]
    who = f"arn:aws:iam::{A}:role/Auditor"
    g2 = graph_of("default", principals=[who])
    assert [n.arn for n in g2.nodes if n.highlighted] == [who]
    assert {e.source for e in g2.edges if e.highlighted} == {f"principal:{who}"}
    rows = [FindingRow("high", "least-privilege", "reads the key policy", principal=who)]
    g3 = highlighted(graph_of("default"), Highlight.of_findings(rows))
    assert g3 == g2

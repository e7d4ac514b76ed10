"""The names a request can carry, as Z3 languages: account ids, IAM names, Regions,
service principals, kms:ViaService endpoints and what a service sends as
aws:SourceAccount / aws:SourceArn (R5.2, R5.3). Witnesses are drawn from real names
(specs/services.json) and from every literal the documents name.
"""

from __future__ import annotations

import re

import z3

from kmsprove.catalog import regions as real_regions
from kmsprove.catalog import service_principals, value_shape, via_services
from kmsprove.encode.symbolic import Sym
from kmsprove.encode.text import lit, lit_re
from kmsprove.encode.universe import Universe

DIGITS12 = z3.Loop(z3.Range("0", "9"), 12, 12)
# the characters of IAM and STS names ([\w+=,.@-])
NAME_CHAR = z3.Union(
    z3.Range("a", "z"),
    z3.Range("A", "Z"),
    z3.Range("0", "9"),
    lit_re("+"),
    lit_re("="),
    lit_re(","),
    lit_re("."),
    lit_re("@"),
    lit_re("_"),
    lit_re("-"),
)
NAME_RE = z3.Plus(NAME_CHAR)
# a role session's or federated user's name: 2 characters at least (STS), as one regular
# expression (beside `NAME_RE`, a length constraint made one query time out at 30 s)
SESSION_RE = z3.Concat(NAME_CHAR, z3.Plus(NAME_CHAR))


# a Region name (the pattern of arn.REGION_RE)
REGION = z3.Concat(
    z3.Loop(z3.Range("a", "z"), 2, 2),
    z3.Plus(z3.Concat(lit_re("-"), z3.Plus(z3.Range("a", "z")))),
    lit_re("-"),
    z3.Range("0", "9"),
)
# text without control characters: what an ARN's resource part or an object key holds
PRINTABLE = z3.Range(" ", "~")


def fresh_service(name: z3.SeqRef, named: set[str]) -> z3.BoolRef:
    """A service no document names: a real service principal (specs/services.json), or
    any `NAME.amazonaws.com` when the documents name every one of those."""
    left = [s for s in service_principals() if s not in named]
    if left:
        return z3.Or(*[name == lit(s) for s in left])
    return z3.And(
        z3.InRe(name, z3.Concat(NAME_RE, lit_re(".amazonaws.com"))),
        *[name != lit(n) for n in sorted(named)],
    )


# services whose resource ARNs have no account field (a bucket, a hosted zone)
UNOWNED = ("s3", "route53")


def source_facts(sym: Sym) -> list[z3.BoolRef]:
    """What a service sends when it acts for a resource (R5.3): aws:SourceAccount is an
    account id, aws:SourceArn an ARN whose account field, when it has one, is that
    account (an S3 bucket's ARN has none; specs/value-shapes.json `arn`)."""
    acct, arn = sym.key("aws:SourceAccount"), sym.key("aws:SourceArn")
    assert acct.value is not None and arn.value is not None
    parts = [
        z3.String(f"{sym.prefix}.sourcearn.{p}")
        for p in ("service", "region", "account", "resource")
    ]
    service, region, account, resource = parts
    shaped = z3.And(
        arn.value
        == z3.Concat(
            lit("arn:aws:"),
            service,
            lit(":"),
            region,
            lit(":"),
            account,
            lit(":"),
            resource,
        ),
        z3.InRe(service, z3.Plus(z3.Union(z3.Range("a", "z"), z3.Range("0", "9"), lit_re("-")))),
        z3.InRe(region, z3.Union(lit_re(""), REGION)),
        z3.Or(
            z3.InRe(account, DIGITS12),
            z3.And(account == lit(""), z3.Or(*[service == lit(s) for s in UNOWNED])),
        ),
        z3.InRe(resource, z3.Plus(PRINTABLE)),
    )
    return [
        z3.Implies(acct.present, z3.InRe(acct.value, DIGITS12)),
        z3.Implies(arn.present, shaped),
        z3.Implies(
            z3.And(arn.present, acct.present, account != lit("")),
            account == acct.value,
        ),
    ]


def endpoint(value: z3.SeqRef, u: Universe, prefix: str) -> z3.BoolRef:
    """kms:ViaService: a real service's endpoint in a real Region, or an endpoint a
    document names that has the shape of one (`s3.amazonaws.com` has not: no call
    carries it).

    The language is finite, and written as `SERVICE.REGION.amazonaws.com` with the
    service and the Region each one of a list (`PREFIX.viaservice.service`,
    `.region`), not as one regular expression: Z3's string solver picks a value of a
    list at once, where the automaton of a union of every service and Region (56 by
    37), met with a `StringLike` pattern, held it for seconds or past any timeout."""
    services = sorted(set(via_services()))
    regions = sorted(set(real_regions()) | set(u.regions))
    fits = re.compile(value_shape("kms:ViaService") or "")
    exact = [lit(v) for v in u.endpoints if fits.fullmatch(v)]
    service = z3.String(f"{prefix}.viaservice.service")
    region = z3.String(f"{prefix}.viaservice.region")
    shaped = z3.And(
        value == z3.Concat(service, lit("."), region, lit(".amazonaws.com")),
        z3.Or(*[service == lit(s) for s in services]),
        z3.Or(*[region == lit(r) for r in regions]),
    )
    return z3.Or(shaped, *[value == x for x in exact])

"""The kms:ViaService language (encode.names.endpoint): a real service's endpoint in a
real Region, or one a document names; written as a service and a Region picked from
their lists, it must accept exactly the values the table's regular expression did."""

from __future__ import annotations

import re

import pytest
import z3

from kmsprove.catalog import regions, value_shape, via_services
from kmsprove.encode.match import ANY_RUN
from kmsprove.encode.names import endpoint
from kmsprove.encode.text import lit, lit_re
from kmsprove.encode.universe import Universe
from kmsprove.world import World

U = Universe(World(), None, [], endpoints=("custom.eu-west-9.amazonaws.com", "s3.amazonaws.com"))


def _accepts(value: str) -> bool:
    s = z3.Solver()
    s.add(endpoint(lit(value), U, "t"))
    result = s.check()
    assert result != z3.unknown
    return result == z3.sat


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("s3.us-east-1.amazonaws.com", True),
        (f"{via_services()[-1]}.{regions()[-1]}.amazonaws.com", True),
        ("custom.eu-west-9.amazonaws.com", True),  # a document names it, in the shape
        ("s3.amazonaws.com", False),  # named, but no call carries it
        ("s3.us-east-1.amazonaws.com.cn", False),
        ("nosuchservice.us-east-1.amazonaws.com", False),
        ("s3.xx-nowhere-1.amazonaws.com", False),
        ("s3..amazonaws.com", False),
        ("", False),
    ],
)
def test_endpoint_language(value: str, ok: bool) -> None:
    assert _accepts(value) is ok


def test_a_free_value_takes_a_real_endpoint() -> None:
    v = z3.String("v")
    s = z3.Solver()
    s.add(endpoint(v, U, "t"), z3.InRe(v, z3.Concat(lit_re("s3."), ANY_RUN)))
    s.add(v != lit("s3.us-east-1.amazonaws.com"))
    assert s.check() == z3.sat
    got = s.model().eval(v).as_string()
    assert re.fullmatch(value_shape("kms:ViaService") or "", got) and got.startswith("s3.")
    assert got.split(".")[1] in regions()

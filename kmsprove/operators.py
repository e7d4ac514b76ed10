"""Condition operators as data: one row per operator, and the literal syntax of values.

Each `Operator` row names its family, whether it is negated, whether its values take
policy variables, and how a policy value must be written. The validator checks values
with the row's parser; the evaluator (`evaluate/conditions.MATCHERS`) and the encoder
(`encode/conditions.ENCODERS`) each key their own comparison on the row's name, and a
test holds the three tables to the same names. The comparisons stay written twice;
only the facts (and the literal parsers, which say what text is a number, a date, a
boolean, base64 or an address) are shared (STYLE.md "share data, not semantics").

Literal rules (docs/choices.md):
- numbers: ASCII decimal notation, an optional sign, fraction and exponent (`1e2`);
  no other digits (`１０` is not a number), no `NaN`, `Infinity`, blanks or `_`;
- dates: the W3C profile of ISO 8601 (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`, then `Thh:mm`,
  `:ss`, `.s...`, a zone `Z` or `±hh:mm`; no zone means UTC), or epoch seconds (an
  optional `-`, digits, an optional fraction); exactly four digits are a year;
- booleans: `true` or `false` in any case; binary: strict base64; addresses: IPv4 or
  IPv6, with an optional prefix length (host bits may be set).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction
from types import MappingProxyType

from kmsprove.ast import SetOp

# --------------------------------------------------------------------------
# literal parsers: text -> value, or None when the text is not such a literal

_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_EPOCH = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_W3C = re.compile(
    r"(?P<y>[0-9]{4})(?:-(?P<mo>[0-9]{2})(?:-(?P<d>[0-9]{2})"
    r"(?:T(?P<h>[0-9]{2}):(?P<mi>[0-9]{2})(?::(?P<s>[0-9]{2})(?:\.(?P<f>[0-9]+))?)?"
    r"(?P<tz>Z|[+-][0-9]{2}(?::?[0-9]{2})?)?)?)?)?"
)
_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_EXPONENT = 1000  # `1e999999999` would be a number too large to compare exactly


def parse_number(text: str) -> Fraction | None:
    """A Numeric operand, exactly (`10` equals `10.0`)."""
    if not _NUMBER.fullmatch(text):
        return None
    mantissa, _, exponent = text.lower().partition("e")
    if exponent and abs(int(exponent)) > MAX_EXPONENT:
        return None
    value = Fraction(mantissa if not mantissa.endswith(".") else mantissa + "0")
    return value * Fraction(10) ** int(exponent) if exponent else value


def _zone(text: str | None) -> timezone:
    if text is None or text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError("zone offset out of range")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def parse_date(text: str) -> Fraction | None:
    """A Date operand as exact epoch seconds (see the module docstring)."""
    m = _W3C.fullmatch(text)
    if m is None:
        return Fraction(text) if _EPOCH.fullmatch(text) else None
    g = m.groupdict()
    try:
        when = datetime(
            int(g["y"]),
            int(g["mo"] or 1),
            int(g["d"] or 1),
            int(g["h"] or 0),
            int(g["mi"] or 0),
            int(g["s"] or 0),
            tzinfo=_zone(g["tz"]),
        )
        delta = when - _UNIX_EPOCH
    except (ValueError, OverflowError):
        return None
    whole = Fraction(delta.days * 86400 + delta.seconds)
    return whole + (Fraction(f"0.{g['f']}") if g["f"] else 0)


def parse_bool(text: str) -> bool | None:
    low = text.lower()
    return True if low == "true" else False if low == "false" else None


def parse_binary(text: str) -> bytes | None:
    """Strict base64 (binascii.Error is a ValueError)."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None


Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_network(text: str) -> Network | None:
    """An IpAddress operand: an address or a CIDR block (host bits may be set)."""
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def parse_address(text: str) -> Address | None:
    """A request's address (aws:SourceIp): an address alone, no prefix."""
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


# --------------------------------------------------------------------------
# the operator table


@dataclass(frozen=True, slots=True)
class Operator:
    name: str  # `StringEquals`; set operators and `IfExists` are parsed apart
    family: str  # decides the value type (R6.2-R6.4)
    negated: bool  # the NOR of the policy values (R6.1)
    variables: bool  # its values take policy variables (R6.10)
    parse: Callable[[str], object | None] | None  # the policy value's syntax; None: any text

    def value_problem(self, value: str) -> str | None:
        """Why `value` cannot be a policy value of this operator (R6.4), or None."""
        if self.parse is None or self.parse(value) is not None:
            return None
        return _PROBLEMS[self.family].format(op=self.name, v=value)


_PROBLEMS = {
    "Numeric": "`{v}` is not a number (`{op}` compares numbers)",
    "Date": "`{v}` is not a date: use ISO 8601 (`2026-01-31T12:00:00Z`) or epoch seconds",
    "Bool": "`{op}` values must be `true` or `false`, not `{v}`",
    "Null": "`{op}` values must be `true` or `false`, not `{v}`",
    "Binary": "`{v}` is not base64 (`{op}` compares base64)",
    "Ip": "`{v}` is not an IP address or CIDR block",
}
_PARSERS: dict[str, Callable[[str], object | None] | None] = {
    "String": None,
    "Arn": None,
    "Numeric": parse_number,
    "Date": parse_date,
    "Bool": parse_bool,
    "Null": parse_bool,
    "Binary": parse_binary,
    "Ip": parse_network,
}
_ROWS = (
    # name, family, negated
    ("StringEquals", "String", False),
    ("StringNotEquals", "String", True),
    ("StringEqualsIgnoreCase", "String", False),
    ("StringNotEqualsIgnoreCase", "String", True),
    ("StringLike", "String", False),
    ("StringNotLike", "String", True),
    ("NumericEquals", "Numeric", False),
    ("NumericNotEquals", "Numeric", True),
    ("NumericLessThan", "Numeric", False),
    ("NumericLessThanEquals", "Numeric", False),
    ("NumericGreaterThan", "Numeric", False),
    ("NumericGreaterThanEquals", "Numeric", False),
    ("DateEquals", "Date", False),
    ("DateNotEquals", "Date", True),
    ("DateLessThan", "Date", False),
    ("DateLessThanEquals", "Date", False),
    ("DateGreaterThan", "Date", False),
    ("DateGreaterThanEquals", "Date", False),
    ("Bool", "Bool", False),
    ("BinaryEquals", "Binary", False),
    ("IpAddress", "Ip", False),
    ("NotIpAddress", "Ip", True),
    ("ArnEquals", "Arn", False),
    ("ArnLike", "Arn", False),
    ("ArnNotEquals", "Arn", True),
    ("ArnNotLike", "Arn", True),
    ("Null", "Null", False),
)
VARIABLE_FAMILIES = ("String", "Arn")  # R6.10; Bool is literal (10.13)

OPERATORS: Mapping[str, Operator] = MappingProxyType(
    {
        name: Operator(name, family, negated, family in VARIABLE_FAMILIES, _PARSERS[family])
        for name, family, negated in _ROWS
    }
)
# Null tests presence, not values: the matcher tables of both twins leave it out
PRESENCE = "Null"


def parse_operator(op: str) -> tuple[SetOp | None, str, bool] | None:
    """(`ForAnyValue:StringLikeIfExists`) -> (FOR_ANY_VALUE, `StringLike`, True), or None."""
    set_op = None
    rest = op
    if ":" in op:
        prefix, rest = op.split(":", 1)
        try:
            set_op = SetOp(prefix)
        except ValueError:
            return None
    if_exists = rest.endswith("IfExists")
    base = rest[: -len("IfExists")] if if_exists else rest
    if base not in OPERATORS or (if_exists and base == PRESENCE):
        return None
    return set_op, base, if_exists

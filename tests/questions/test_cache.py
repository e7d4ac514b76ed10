"""The results cache's values and keys (`kmsprove.questions.cache`): values round-trip
exactly, a crafted or damaged value is refused (never run, never served), and keys tell
apart everything that can change an answer."""

from __future__ import annotations

import hashlib
import pickle
import zlib
from pathlib import Path

import pytest

from kmsprove.inputs.key_policy_world import load_world_input
from kmsprove.inputs.options import ReadOptions
from kmsprove.inputs.results_store import Store
from kmsprove.questions.cache import ResultsCache, decode, encode, key_of
from kmsprove.questions.check import check_world
from kmsprove.syntax.spec import parse_spec

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cross-account" / "world.json"
SPEC = """expect no: can any principal outside account 111122223333 kms:Decrypt
expect yes: can principal arn:aws:iam::111122223333:root kms:PutKeyPolicy
"""


def test_outcomes_round_trip_exactly_with_their_witness_worlds() -> None:
    world = load_world_input(str(EXAMPLE)).world
    outcomes = tuple(check_world(world, parse_spec(SPEC, "kms.spec")))
    assert any(o.answer.checked_world is not None for o in outcomes)  # a "yes" and its world
    back = decode(encode(outcomes))
    assert back == outcomes
    assert isinstance(back, tuple)
    for a, b in zip(outcomes, back, strict=True):
        assert repr(a) == repr(b)  # the fields equality leaves out too (positions)
        assert a.answer.checked_world == b.answer.checked_world


class _Runs:
    def __reduce__(self) -> tuple[object, ...]:
        return (print, ("ran code from the cache",))


def _forged(value: object) -> bytes:
    body = zlib.compress(pickle.dumps(value, protocol=5), 1)
    return hashlib.sha256(body).digest()[:16] + body


def test_a_value_naming_any_other_global_is_refused_not_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for forged in (_Runs(), [ReadOptions, pickle.loads], Path("/")):
        with pytest.raises(ValueError, match="refused global"):
            decode(_forged(forged))
    assert capsys.readouterr().out == ""


def test_a_damaged_value_is_refused() -> None:
    good = encode(("a", 1))
    assert decode(good) == ("a", 1)
    for bad in (good[:-3], good[:20] + bytes([good[20] ^ 1]) + good[21:], b"", b"\x00" * 40):
        with pytest.raises(ValueError):
            decode(bad)


def test_keys_are_unambiguous_and_follow_every_input(tmp_path: Path) -> None:
    assert key_of("ab", "c") != key_of("a", "bc") != key_of("abc")
    cache = ResultsCache(Store.open(str(tmp_path / "c.sqlite"), "code", False), "code")
    w = str(tmp_path / "w.json")
    source = ((w, "0" * 64),)

    def key(unit: tuple, read: ReadOptions | None = None) -> str:
        return cache.store_unit(unit, read or ReadOptions(), (1, (), False), {})

    keys = {
        key((w, None, source)),
        key((w, None, source), ReadOptions(account="444455556666")),
        key((w, None, ((w, "1" * 64),))),
        key((w, ("arn:k1",), source)),
        key((w, ("arn:k2",), source)),
        key((w, None, (*source, (w + ".doc", "0" * 64)))),
    }
    assert len(keys) == 6
    other = ResultsCache(cache.store, "other code")
    assert other.store_unit((w, None, source), ReadOptions(), (1, (), False), {}) not in keys


def test_a_world_file_row_serves_the_set_of_documents_that_is_unchanged(tmp_path: Path) -> None:
    """One row per world file; each set of documents it was read with keeps its entries."""
    w, doc = tmp_path / "w.json", tmp_path / "doc.json"
    w.write_text("{}")
    path = str(tmp_path / "c.sqlite")

    def digest(f: Path) -> str:
        return hashlib.sha256(f.read_bytes()).hexdigest()

    def stored(entries: dict[str, object]) -> None:
        cache = ResultsCache.open(path)
        cache.units([(str(w), None, ())], ReadOptions())
        sources = ((str(w), digest(w)), (str(doc), digest(doc)))
        cache.store_unit((str(w), None, sources), ReadOptions(), (1, (), False), entries)
        cache.flush()

    def served() -> object:
        cache = ResultsCache.open(path)
        [found] = cache.units([(str(w), None, ())], ReadOptions())
        cache.flush()
        return None if found is None else dict(found.entries)

    doc.write_text("A")
    stored({"q1": "answer on A"})
    stored({"q2": "answer on A too"})  # the same documents: the entries accumulate
    doc.write_text("B")
    assert served() is None
    stored({"q1": "answer on B"})
    assert served() == {"q1": "answer on B"}
    doc.write_text("A")  # the branch switched back
    assert served() == {"q1": "answer on A", "q2": "answer on A too"}

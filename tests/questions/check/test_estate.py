"""Estate units carry their worlds to worker processes: a world survives pickling
whole, and a world's keys are cut into slices that together hold every key once."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

from kmsprove.inputs import load_world
from kmsprove.questions.check.estate import plan
from tests.support.builders import make_world, policy, stmt

ROLE = "arn:aws:iam::111122223333:role/Reader"


def test_a_world_survives_pickling(tmp_path: Path) -> None:
    world = make_world(
        tmp_path,
        principals={ROLE: {"policies": [policy(stmt(action="kms:Decrypt"))], "tags": {"t": "1"}}},
        accounts={"111122223333": {"complete": True, "organization": "o-aaaaaaaaaa"}},
    )
    again = pickle.loads(pickle.dumps(world))
    assert again == world
    assert again.identity(ROLE) == world.identity(ROLE)
    assert dict(again.accounts["111122223333"].by_name) == dict(
        world.accounts["111122223333"].by_name
    )


def test_a_world_with_many_keys_is_cut_into_slices(tmp_path: Path) -> None:
    keys = [
        {
            "arn": f"arn:aws:kms:us-east-1:111122223333:key/{i:08d}-0000-0000-0000-000000000000",
            "policy": policy(stmt(principal="arn:aws:iam::111122223333:root")),
        }
        for i in range(20)
    ]
    path = tmp_path / "w.json"
    path.write_text(json.dumps({"version": 1, "keys": keys}))
    units, given = plan(str(path), 2)
    assert given is not None and given.world == load_world(path)
    assert given.warnings == () and given.options.key_arn is None
    assert len(units) > 1
    sliced = [k.arn for u in units if u.loaded for k in u.loaded.keys]
    assert sliced == [k["arn"] for k in keys]

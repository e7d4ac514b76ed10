"""Real-world policies (AWS's console default, CloudTrail's, an AWS managed key's,
an RCP identity perimeter, an ABAC identity policy) validate without errors and
give the decisions AWS documents."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from kmsprove.cli import main

HERE = Path(__file__).parent
KINDS = {
    "console-default.json": "key-policy",
    "cloudtrail.json": "key-policy",
    "aws-managed-ebs.json": "key-policy",
    "org-perimeter-rcp.json": "rcp",
    "developer-identity.json": "identity-policy",
}


@pytest.mark.parametrize(("name", "kind"), sorted(KINDS.items()))
def test_real_world_policy_validates(name: str, kind: str) -> None:
    result = CliRunner().invoke(main, ["validate", "--kind", kind, str(HERE / name)])
    assert result.exit_code == 0, result.output
    assert " error: " not in result.output

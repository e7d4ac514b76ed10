"""Shared pytest setup: hypothesis profiles, every printed reproduce line checked, and
a results cache of the session's own (`XDG_CACHE_HOME` in a temporary directory, so no
test reads or writes the user's cache; the CLI's subprocesses inherit it).

Profiles: "ci" (the default) draws the same examples on every run, so CI on a clean
clone runs what was run before commit and a failure there reproduces here; "explore"
draws fresh ones each run (look for new bugs with it); "slow" draws many more."""

from __future__ import annotations

import os
import shlex
import shutil
import tempfile
from typing import Any

from click.testing import CliRunner, Result
from hypothesis import HealthCheck, settings

from kmsprove.cli import main

settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "explore", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "slow", max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

_CACHE_HOME = tempfile.mkdtemp(prefix="kmsprove-tests-cache-")
os.environ["XDG_CACHE_HOME"] = _CACHE_HOME


def pytest_unconfigure(config: Any) -> None:
    shutil.rmtree(_CACHE_HOME, ignore_errors=True)


# --------------------------------------------------------------------------
# Every `reproduce:` line any test makes the CLI print is run as printed, and must
# give ALLOW (README, "What a witness guarantees"). Wrapping click's runner covers
# every CLI test without each one having to remember.

_invoke = CliRunner.invoke
REPRODUCED: list[str] = []


def _reproducing_invoke(self: CliRunner, cli: Any, args: Any = None, **kw: Any) -> Result:
    result = _invoke(self, cli, args, **kw)
    for line in result.stdout.splitlines():
        _, sep, command = line.partition("reproduce: kmsprove ")
        if not sep:
            continue
        again = _invoke(CliRunner(), main, shlex.split(command))
        assert again.exit_code == 0 and again.stdout.startswith("ALLOW"), (
            f"printed `{line.strip()}`, which gives:\n{again.output}"
        )
        REPRODUCED.append(command)
    return result


CliRunner.invoke = _reproducing_invoke  # type: ignore[method-assign]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if REPRODUCED:
        terminalreporter.write_line(f"reproduce lines run, all ALLOW: {len(REPRODUCED)}")

"""A moto server (server mode: real HTTP, as boto3 talks to AWS) for the collector's
tests, reset before each test, with the environment boto3 reads pointed at it, and
botocore event hooks that the collector's own session picks up (faults, pagination)."""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import botocore.loaders
import pytest
from moto.server import ThreadedMotoServer

import kmsprove.collect.run as run

REGION = "us-east-1"


@pytest.fixture(scope="package")
def moto_url() -> Iterator[str]:
    """One server for this package's tests only: its threads are gone before any other
    test forks (a thread holding a lock at fork time can hang the child)."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request
    with pytest.MonkeyPatch.context() as mp:
        # moto's EC2 loads thousands of AMIs per Region on first use (seconds): none needed
        mp.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
        server.stop()


@dataclass
class Hooks:
    """botocore handlers registered on every session the collector makes."""

    real: Callable[..., Any] = boto3.Session  # the test's own sessions (seeding) use this
    handlers: list[tuple[str, Callable[..., Any]]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)  # every operation the collector called

    def on(self, event: str, handler: Callable[..., Any]) -> None:
        self.handlers.append((event, handler))

    def client(self, service: str, region: str = REGION, **kw: Any) -> Any:
        """A client for seeding the estate (no hooks, not recorded)."""
        return _shared_models(self.real(region_name=region)).client(service, **kw)


@pytest.fixture
def aws(moto_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Hooks]:
    """Moto, empty; `boto3.Session()` talks to it; the returned hooks apply to the
    collector's sessions."""
    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST"))
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS", "CI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    real = boto3.Session
    hooks = Hooks(real)

    def session(*args: Any, **kw: Any) -> boto3.Session:
        s = _shared_models(real(*args, **kw))
        for event, handler in hooks.handlers:
            s.events.register(event, handler)
        s.events.register("before-call", _recorder(hooks))
        return s

    monkeypatch.setattr(run.boto3, "Session", session)
    yield hooks


_LOADER = botocore.loaders.create_loader()


def _shared_models(session: boto3.Session) -> boto3.Session:
    """One botocore loader for every session of the test run: service models (EC2's is
    megabytes) are parsed once, not once per session (a test-run saving only)."""
    session._session.register_component("data_loader", _LOADER)
    return session


def _recorder(hooks: Hooks) -> Callable[..., None]:
    def record(model: Any, **kw: Any) -> None:
        hooks.calls.append(f"{model.service_model.service_name}:{model.name}")

    return record

"""The collector's only contact with AWS: boto3 clients with botocore's adaptive retry
mode (throttling is retried there, with client-side rate limiting; there is no retry
loop here), every call checked against `calls.CALLS`, pagination merged, and AWS's
refusals turned into values the collector records.

- `Refused`: a read AWS refused (AccessDenied...) or that still failed after every
  retry; the caller records it, and answers that depend on it become unknown.
- `CollectError`: the run cannot go on (credentials rejected or expired, AWS
  unreachable): the CLI reports it (exit 2) and `--resume` continues later.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.config
from botocore import xform_name
from botocore.exceptions import BotoCoreError, ClientError

from kmsprove.collect.calls import BY_OPERATION

# the run cannot go on with these credentials: stop, so `--resume` can continue
FATAL_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "RequestExpired",
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId",
        "AuthFailure",
    }
)
SESSION_NAME = "kmsprove-collect"
REFRESH_BEFORE = datetime.timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Refusal:
    """One read that did not happen, and why."""

    action: str  # the IAM action of the call (`kms:GetKeyPolicy`)
    code: str  # AWS's error code (`AccessDeniedException`)
    message: str  # AWS's message (shown in the summary, not written into the world)

    @property
    def reason(self) -> str:
        return f"{self.action} refused ({self.code})"


class Refused(Exception):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.reason)
        self.refusal = refusal


class CollectError(Exception):
    """The run stops here; what it wrote so far is kept for `--resume`."""


def client_config(max_attempts: int) -> botocore.config.Config:
    return botocore.config.Config(
        retries={"mode": "adaptive", "max_attempts": max_attempts},
        user_agent_extra="kmsprove-collect",
    )


class Aws:
    """Clients of one account (the caller's own credentials, or an assumed role's)."""

    def __init__(
        self,
        session: boto3.Session,
        config: botocore.config.Config,
        home_region: str,
        page_size: int | None = None,
        credentials: dict[str, Any] | None = None,
    ) -> None:
        self.session = session
        self.config = config
        self.home_region = home_region  # global services (IAM, STS, Organizations, S3 listing)
        self.page_size = page_size
        self.credentials = credentials
        self.account = ""
        self.partition = "aws"
        self._clients: dict[tuple[str, str], Any] = {}

    def client(self, service: str, region: str | None = None) -> Any:
        where = (service, region or self.home_region)
        if where not in self._clients:
            creds = {}
            if self.credentials is not None:
                creds = {
                    "aws_access_key_id": self.credentials["AccessKeyId"],
                    "aws_secret_access_key": self.credentials["SecretAccessKey"],
                    "aws_session_token": self.credentials["SessionToken"],
                }
            try:
                self._clients[where] = self.session.client(
                    service, region_name=where[1], config=self.config, **creds
                )
            except BotoCoreError as exc:
                raise CollectError(str(exc)) from None
        return self._clients[where]

    def call(
        self,
        service: str,
        operation: str,
        region: str | None = None,
        absent: tuple[str, ...] = (),
        **params: Any,
    ) -> dict[str, Any] | None:
        """One call; None when AWS answers with one of the `absent` codes (no bucket
        policy, no organization); `Refused` when it refuses."""
        action = _action(service, operation)
        method = getattr(self.client(service, region), xform_name(operation))
        try:
            result: dict[str, Any] = method(**params)
        except ClientError as exc:
            code = _code(exc)
            if code in absent:
                return None
            raise _refusal(action, exc) from None
        except BotoCoreError as exc:
            raise CollectError(f"{action}: {exc}") from None
        return result

    def pages(
        self,
        service: str,
        operation: str,
        lists: tuple[str, ...],
        region: str | None = None,
        **params: Any,
    ) -> dict[str, list[Any]]:
        """Every page of a paginated call, its `lists` joined."""
        action = _action(service, operation)
        client = self.client(service, region)
        name = xform_name(operation)
        merged: dict[str, list[Any]] = {k: [] for k in lists}
        try:
            if not client.can_paginate(name):
                pages: Any = [getattr(client, name)(**params)]
            else:
                config = {"PageSize": self.page_size} if self.page_size else {}
                pages = client.get_paginator(name).paginate(**params, PaginationConfig=config)
            for page in pages:
                for k in lists:
                    merged[k].extend(page.get(k) or [])
        except ClientError as exc:
            raise _refusal(action, exc) from None
        except BotoCoreError as exc:
            raise CollectError(f"{action}: {exc}") from None
        return merged

    def identify(self) -> None:
        """The account and partition of these credentials (sts:GetCallerIdentity)."""
        found = self.call("sts", "GetCallerIdentity")
        assert found is not None
        self.account = found["Account"]
        self.partition = found["Arn"].split(":")[1]

    def assume(self, account: str, role_name: str) -> Aws:
        """Clients of `account` through its role `role_name` (sts:AssumeRole)."""
        arn = f"arn:{self.partition}:iam::{account}:role/{role_name}"
        found = self.call("sts", "AssumeRole", RoleArn=arn, RoleSessionName=SESSION_NAME)
        assert found is not None
        other = Aws(self.session, self.config, self.home_region, self.page_size)
        other.credentials = found["Credentials"]
        other.account = account
        other.partition = self.partition
        return other

    def expiring(self) -> bool:
        """Assumed-role credentials that end within minutes (runs longer than an hour)."""
        if self.credentials is None:
            return False
        end = self.credentials.get("Expiration")
        if not isinstance(end, datetime.datetime):
            return False
        now = datetime.datetime.now(end.tzinfo or datetime.UTC)
        return end - now < REFRESH_BEFORE


def _action(service: str, operation: str) -> str:
    call = BY_OPERATION.get((service, operation))
    if call is None:  # INVARIANT: calls.CALLS lists every call (the policy test reads it)
        raise AssertionError(f"{service}:{operation} is not in kmsprove.collect.calls.CALLS")
    return call.action


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "Unknown"))


def _refusal(action: str, exc: ClientError) -> Exception:
    code = _code(exc)
    message = str(exc.response.get("Error", {}).get("Message", "")) or str(exc)
    if code in FATAL_CODES:
        return CollectError(f"{action}: AWS rejected the credentials ({code}: {message})")
    return Refused(Refusal(action, code, message))

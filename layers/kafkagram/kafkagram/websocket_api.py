"""API Gateway's WebSocket management API (`POST @connections/{id}`), called asynchronously over pooled
HTTP connections and signed with SigV4 by botocore's signer, so the same code runs on AWS and against
the local gateway (which accepts any credentials).

One `post_to_connection` per connection is API Gateway's contract; what makes thousands a second
possible is sending them concurrently on kept-alive connections instead of one blocking boto3 call
each. A 410 means the connection is gone (the caller forgets it); any other failure raises.

`close_connections` (DeleteConnection) is for the API's session routes: a logout, a password change or
a revoked session closes the WebSockets opened with that session's tokens.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from functools import lru_cache
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp
import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.session import get_session

T = TypeVar("T")

SERVICE = "execute-api"
CONNECT_TIMEOUT_S = 2.0
# A slow connection must not hold the partition for long: the record is retried instead.
REQUEST_TIMEOUT_S = 5.0


class PushFailed(RuntimeError):
    """The management API refused a post for another reason than a gone connection."""


class ManagementApi:
    """A client of one stage's management API (`https://{api}.execute-api.{region}.amazonaws.com/{stage}`).
    Made and used on one event loop; `close()` on that loop."""

    def __init__(self, endpoint: str, region: str, concurrency: int) -> None:
        self._endpoint = endpoint.rstrip("/")
        self._region = region
        self._credentials = get_session().get_credentials()  # refreshed by botocore when they expire
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=concurrency, keepalive_timeout=60),
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S, connect=CONNECT_TIMEOUT_S))

    async def post_to_connection(self, connection_id: str, data: bytes) -> bool:
        """Send one frame; False when the connection is gone (410)."""
        url = f"{self._endpoint}/@connections/{quote(connection_id, safe='')}"
        async with self._session.post(url, data=data, headers=self._signed_headers(url, data)) as response:
            if response.status == 410:
                return False
            if response.status >= 300:
                raise PushFailed(f"POST @connections/{connection_id} answered {response.status}: "
                                 f"{(await response.text())[:200]}")
            return True

    def _signed_headers(self, url: str, data: bytes) -> dict[str, Any]:
        request = AWSRequest(method="POST", url=url, data=data)
        SigV4Auth(self._credentials.get_frozen_credentials(), SERVICE, self._region).add_auth(request)
        return dict(request.headers.items())

    async def close(self) -> None:
        await self._session.close()



# Closing connections (DeleteConnection) from request-driven functions ----------------------------------
# A handful per call (one user's sessions, at most MAX_WS_CONNECTIONS_PER_USER connections), so a plain
# boto3 client does; it is made once per endpoint and kept, like the sandbox's other clients.

def close_connections(endpoint: str, connection_ids: Sequence[str]) -> int:
    """DeleteConnection for each id; how many were open (410 Gone: already closed, not an error). The
    gateway then runs `$disconnect`, which forgets each in the registry."""
    client = _management_client(endpoint.rstrip("/"))
    closed = 0
    for connection_id in connection_ids:
        try:
            client.delete_connection(ConnectionId=connection_id)
            closed += 1
        except client.exceptions.GoneException:
            pass
    return closed


@lru_cache(maxsize=4)
def _management_client(endpoint: str) -> Any:
    return boto3.client("apigatewaymanagementapi", endpoint_url=endpoint,
                        region_name=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
                        config=Config(retries={"max_attempts": 2}, connect_timeout=CONNECT_TIMEOUT_S,
                                      read_timeout=REQUEST_TIMEOUT_S))


class SandboxSender:
    """A ManagementApi for a function that sends frames, with the event loop it lives on: one per
    sandbox, kept across invocations, so the pooled connections stay open between batches. The client
    is made at the first send, from WEBSOCKET_ENDPOINT (push and post_stats both send this way)."""

    def __init__(self, concurrency: int) -> None:
        self.concurrency = concurrency
        self._loop = asyncio.new_event_loop()
        self._api: ManagementApi | None = None

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Run `work` to its end on the sender's loop."""
        return self._loop.run_until_complete(work)

    @property
    def post_to_connection(self) -> Callable[[str, bytes], Awaitable[bool]]:
        if self._api is None:
            self._api = self.run(self._new_api())
        return self._api.post_to_connection

    def reset(self) -> None:
        """Forget the client (tests point WEBSOCKET_ENDPOINT elsewhere)."""
        if self._api is not None:
            self.run(self._api.close())
            self._api = None

    async def _new_api(self) -> ManagementApi:  # the client's connection pool belongs to the loop it is made on
        return ManagementApi(os.environ["WEBSOCKET_ENDPOINT"], os.environ.get("AWS_REGION", "us-east-1"),
                             self.concurrency)

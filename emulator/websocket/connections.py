"""One open client connection: its socket, identity, activity clock and how it ended."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from aiohttp import WSCloseCode, WSMessage, WSMsgType, web

from emulator.websocket.events import ConnectionFacts, epoch_ms
from emulator.websocket.spec import WebSocketApiSpec

GOING_AWAY = (int(WSCloseCode.GOING_AWAY), "Going away")
NO_STATUS = 1005  # RFC 6455: the close frame carried no status code
NO_STATUS_REASON = "Client-side close frame status not set"  # AWS's disconnectReason for it
CONNECTION_LOST = (int(WSCloseCode.ABNORMAL_CLOSURE), "Connection lost")


@dataclass(eq=False)
class Connection:
    facts: ConnectionFacts
    api: WebSocketApiSpec
    ws: web.WebSocketResponse
    opened_at: float = field(default_factory=time.monotonic)
    last_active_at: float = field(default_factory=time.monotonic)
    last_active_ms: int = field(default_factory=epoch_ms)
    server_close: tuple[int, str] | None = None  # set when the gateway, not the client, closed it

    @property
    def id(self) -> str:
        return self.facts.connection_id

    @property
    def open(self) -> bool:
        return not self.ws.closed and self.server_close is None

    def touch(self) -> None:
        """A data frame went either way: the idle timer starts again."""
        self.last_active_at = time.monotonic()
        self.last_active_ms = epoch_ms()

    def seconds_left(self, idle_timeout_s: float, max_connection_s: float) -> float:
        """Time until the idle timeout or the maximum connection duration ends this connection."""
        deadline = min(self.last_active_at + idle_timeout_s, self.opened_at + max_connection_s)
        return deadline - time.monotonic()

    async def close(self, code: int, reason: str) -> None:
        if self.server_close is None and not self.ws.closed:
            self.server_close = (code, reason)
        await self.ws.close(code=code, message=reason.encode())

    def ending(self, last_message: WSMessage | None) -> tuple[int, str]:
        """`disconnectStatusCode` and `disconnectReason` for how the connection ended."""
        if self.server_close is not None:
            return self.server_close
        if last_message is not None and last_message.type == WSMsgType.CLOSE:
            code = int(last_message.data or NO_STATUS)
            reason = str(last_message.extra or "")
            return code, (NO_STATUS_REASON if code == NO_STATUS and not reason else reason)
        if self.ws.close_code == WSCloseCode.MESSAGE_TOO_BIG:
            return int(WSCloseCode.MESSAGE_TOO_BIG), "Message too big"
        return CONNECTION_LOST

"""Local API Gateway WebSocket APIs: the gateway, its `@connections` API, and endpoint rewrites."""

from emulator.websocket.gateway import WebSocketGateway
from emulator.websocket.spec import local_endpoint_rewrites, rewrite_environment, websocket_apis

__all__ = ["WebSocketGateway", "local_endpoint_rewrites", "rewrite_environment", "websocket_apis"]

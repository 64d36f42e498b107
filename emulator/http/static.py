"""The built web app (e.g. `frontend/dist`) served next to the API, as a CDN would serve it.

Hashed bundles under `assets/` never change, so browsers may keep them for a year; everything
else (index.html first) must be revalidated so a rebuild shows up on the next load.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path, PurePosixPath

from aiohttp import web

INDEX_FILE = "index.html"
ASSETS_DIR = "assets"
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
REVALIDATE_CACHE = "no-cache"
# Types the platform's mimetypes table gets wrong or lacks.
_CONTENT_TYPES = {
    ".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css", ".html": "text/html",
    ".json": "application/json", ".map": "application/json", ".svg": "image/svg+xml",
    ".webmanifest": "application/manifest+json", ".wasm": "application/wasm", ".ico": "image/x-icon",
    ".woff": "font/woff", ".woff2": "font/woff2", ".webp": "image/webp", ".avif": "image/avif",
    ".txt": "text/plain",
}
_TEXT_PREFIXES = ("text/", "application/json", "application/manifest+json", "image/svg+xml")


def content_type_for(path: Path) -> str:
    kind = _CONTENT_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
    kind = kind or "application/octet-stream"
    return f"{kind}; charset=utf-8" if kind.startswith(_TEXT_PREFIXES) else kind


class StaticSite:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def file_for(self, segments: list[str]) -> Path | None:
        """The file a decoded request path names, never one outside the root nor a dotfile."""
        if any(not s or s.startswith(".") or "\\" in s or "\x00" in s for s in segments):
            return None
        candidate = self.root.joinpath(*segments)
        if candidate.is_dir():
            candidate = candidate / INDEX_FILE
        return self._existing(candidate)

    def index_file(self) -> Path | None:
        return self._existing(self.root / INDEX_FILE)

    @staticmethod
    def is_client_route(segments: list[str], navigation: bool = False) -> bool:
        """A path the web app's router may own: not under assets/, no dotfile, and either no file
        extension or a page the browser navigates to (`navigation`: it accepts text/html), since a
        route's last segment may hold a dot (`/u/rafa.evans0`) while an <img> of a missing file must
        still get a 404."""
        if (segments and segments[0] == ASSETS_DIR) or any(s.startswith(".") for s in segments):
            return False
        return not segments or navigation or not PurePosixPath(segments[-1]).suffix

    def response(self, file: Path) -> web.FileResponse:
        relative = file.relative_to(self.root)
        immutable = relative.parts[0] == ASSETS_DIR and len(relative.parts) > 1
        headers = {
            "Content-Type": content_type_for(file),
            "Cache-Control": IMMUTABLE_CACHE if immutable else REVALIDATE_CACHE,
        }
        return web.FileResponse(file, headers=headers)

    def _existing(self, candidate: Path) -> Path | None:
        try:
            resolved = candidate.resolve()
        except (OSError, RuntimeError):
            return None
        if not resolved.is_relative_to(self.root) or not resolved.is_file():
            return None
        return resolved

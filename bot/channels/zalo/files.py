"""Charts and exports for Zalo members, who can be sent a photo only by public URL and no file
at all: in webhook mode each file gets a link that nobody can guess (128 random bits) and that
works for ZALO_FILE_LINK_MINUTES, served by the bot's own web server under the public base of
ZALO_WEBHOOK_URL (`<webhook URL>/files/<token>/<name>`). The file waits on disk under data/
only until then: every publish and every download first deletes what has expired, and the
service sweeps once a minute. The expiry is in the file's name, so a restart keeps the rule.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from http import HTTPStatus
from pathlib import Path
from urllib.parse import quote

import tornado.web

from bot.clock import Clock

FILES_ROUTE = "files"
_TOKEN = re.compile(r"[0-9a-f]{32}")
_UNSAFE = re.compile(r"[^\w.\-]+")
_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
          ".json": "application/json", ".csv": "text/csv; charset=utf-8",
          ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
          ".zip": "application/zip", ".pdf": "application/pdf"}


class FileLinks:
    """Expiring download links for files kept under `folder` (see the module docstring)."""

    def __init__(self, *, folder: Path, base_url: str, minutes: int,
                 clock: Clock | None = None) -> None:
        self.folder = folder
        self.base_url = base_url.rstrip("/")
        self.lifetime = timedelta(minutes=minutes)
        self.clock = clock or Clock()

    def publish(self, content: bytes, filename: str) -> tuple[str, datetime]:
        """Keep `content` until its expiry; (its public URL, when the link stops working)."""
        self.sweep()
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        token = secrets.token_hex(16)
        expires = self.clock.now() + self.lifetime
        name = _UNSAFE.sub("_", Path(filename).name).strip("._") or "file"
        path = self.folder / f"{token}--{int(expires.timestamp())}--{name}"
        path.write_bytes(content)
        path.chmod(0o600)
        return f"{self.base_url}/{FILES_ROUTE}/{token}/{quote(name)}", expires

    def find(self, token: str) -> Path | None:
        """The file behind a link that still works, or None."""
        self.sweep()
        if not _TOKEN.fullmatch(token) or not self.folder.is_dir():
            return None
        return next(iter(self.folder.glob(f"{token}--*")), None)

    def sweep(self) -> int:
        """Delete every file whose link has expired; how many."""
        if not self.folder.is_dir():
            return 0
        now = self.clock.now().timestamp()
        gone = 0
        for path in self.folder.iterdir():
            parts = path.name.split("--", 2)
            if len(parts) == 3 and parts[1].isdigit() and int(parts[1]) > now:
                continue
            path.unlink(missing_ok=True)  # expired, or not ours to keep
            gone += 1
        return gone


class FileHandler(tornado.web.RequestHandler):
    """GET `<files route>/<token>/<name>`: the file while its link works, else 404."""

    SUPPORTED_METHODS = ("GET",)

    def initialize(self, links: FileLinks) -> None:
        self.links = links

    async def get(self, token: str, _name: str) -> None:
        path = self.links.find(token)
        if path is None:
            self.set_status(HTTPStatus.NOT_FOUND)
            self.finish()
            return
        self.set_header("Content-Type", _TYPES.get(path.suffix.lower(),
                                                   "application/octet-stream"))
        self.set_header("Cache-Control", "private, no-store")
        self.set_header("X-Robots-Tag", "noindex")
        self.finish(path.read_bytes())


def route(webhook_path: str, links: FileLinks) -> tuple[str, type[FileHandler], dict[str, object]]:
    """The tornado route serving `links` below the webhook's path."""
    base = "/" + webhook_path.strip("/")
    return (rf"{re.escape(base.rstrip('/'))}/{FILES_ROUTE}/([0-9a-f]{{32}})/([^/]+)",
            FileHandler, {"links": links})

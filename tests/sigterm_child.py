"""Helper process for tests/test_ops.py: the bot as `python -m bot run` runs it (`bot.ops.serve`,
long polling, signal handling), on the in-process Bot API instead of the network.

    python tests/sigterm_child.py DATABASE SENT_LOG SEND_RATE

Every notice the fake Bot API accepts is appended to SENT_LOG (one chat id per line, flushed)
before the answer reaches the bot: the test's record of what Telegram delivered.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.app import build_application  # noqa: E402
from bot.channels.telegram_fake import FakeBotAPI  # noqa: E402
from bot.logging_setup import configure  # noqa: E402
from bot.ops import serve  # noqa: E402
from bot.settings import Settings  # noqa: E402

NOTICE_MARK = "Họp chi hội"


class RecordingAPI(FakeBotAPI):
    """Writes down each notice it accepted."""

    def __init__(self, log: Path) -> None:
        super().__init__()
        self.log = log.open("a", encoding="utf-8", buffering=1)

    async def do_request(self, url: str, method: str, *args: Any, **kwargs: Any
                         ) -> tuple[int, bytes]:
        status, body = await super().do_request(url, method, *args, **kwargs)
        call = self.calls[-1]
        if call.ok and call.method == "sendMessage" and NOTICE_MARK in str(
                call.params.get("text")):
            self.log.write(f"{call.params['chat_id']}\n")
        return status, body


def main() -> None:
    """Serve until SIGTERM/SIGINT."""
    database, sent_log, rate = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
    configure("INFO")
    api = RecordingAPI(sent_log)
    with sqlite3.connect(database) as conn:
        for (chat_id,) in conn.execute("SELECT chat_id FROM members"):
            api.add_chat(chat_id)
    settings = Settings(database=database, send_rate=rate,
                        admin_ids=frozenset({5000}))  # the notice's sender
    application = build_application(settings, request=api)
    asyncio.run(serve(application, settings, on_ready=lambda: print("ready", flush=True)))


if __name__ == "__main__":
    main()

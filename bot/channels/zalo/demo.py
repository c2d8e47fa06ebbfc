"""`python -m bot demo --channel zalo`: exactly what a Zalo member sees (no buttons; she types
numbers and words), the real Zalo Application on the in-process Zalo fake.

Type as on Zalo: a number picks an option, `menu` shows the main menu, `hủy` cancels.
`:member` and `:admin` (a super-admin) switch persona; `:quit` ends.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from pathlib import Path
from typing import TextIO

from bot.channels.zalo.client import ZaloClient
from bot.channels.zalo.fake import BASE_URL, TOKEN, FakeZaloAPI
from bot.channels.zalo.service import build_zalo_application, with_zalo_admins
from bot.demo import seed
from bot.settings import Settings
from storage.db import Database

PERSONAS = {"member": "demo0zalo0member", "admin": "demo0zalo0admin"}


async def run_zalo_demo(settings: Settings, *, database: Path | None = None,
                        stdin: TextIO | None = None, out: TextIO | None = None) -> int:
    """Run the console until `:quit` or end of input."""
    stdin, out = stdin or sys.stdin, out or sys.stdout
    path = database or Path("data/demo.sqlite3")
    settings = dataclasses.replace(settings, database=path, token=None, zalo_token=None,
                                   send_rate=0, zalo_send_rate=0,
                                   zalo_admin_ids=frozenset({PERSONAS["admin"]}))
    db = await Database.connect(path)
    await seed(db)
    await db.close()
    settings = await with_zalo_admins(settings)
    api = FakeZaloAPI()
    client = ZaloClient(token=TOKEN, base_url=BASE_URL, transport=api)
    application, bridge = build_zalo_application(settings, client=client, background=False)
    await application.initialize()
    await application.post_init(application)  # type: ignore[misc]
    persona = "member"
    print(__doc__.split("\n\n", 1)[1].strip(), file=out)
    print("\nYou are: member (on Zalo). Type start to begin.", file=out, flush=True)
    loop = asyncio.get_running_loop()
    try:
        while True:
            print(f"\n{persona}> ", end="", file=out, flush=True)
            line = await loop.run_in_executor(None, stdin.readline)
            if not line or line.strip() == ":quit":
                break
            if line.strip()[1:] in PERSONAS and line.startswith(":"):
                persona = line.strip()[1:]
                print(f"You are now: {persona}. Type start.", file=out)
                continue
            seen = len(api.calls)
            zalo_id = PERSONAS[persona]
            await bridge.handle_event(api.event(zalo_id, text=line.rstrip("\n") or " "))
            await application.bot_data.delivery.run_until_idle()
            for call in api.calls[seen:]:
                if call.ok and call.params.get("chat_id") == zalo_id and "text" in call.params:
                    text = str(call.params["text"]).replace("\n", "\n     ")
                    print(f"\nbot: {text}", file=out, flush=True)
    finally:
        await application.shutdown()
        await application.post_shutdown(application)  # type: ignore[misc]
        await client.close()
    print("\nBye.", file=out)
    return 0

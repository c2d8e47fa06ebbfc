"""Messages to anyone but the person who acted: handed to the delivery outbox.

Paced with every other message, resumed after a restart and recorded per member
(`bot/delivery.py`), never `bot.send_message` from a handler to someone else's chat.
"""

from __future__ import annotations

import secrets

from bot import senders
from bot.context import BotContext
from storage import deliveries
from storage.db import to_iso
from storage.deliveries import SYSTEM_SENDER, NewBroadcast


async def tell(context: BotContext, notices: list[tuple[int, str]], *, kind: str,
               unit_id: int, reply_markup: str | None = None) -> None:
    """Queue one personal message per (member id, text) and wake the outbox.

    `kind` names what they are (not 'notice': they are not listed in /broadcasts); nobody gets a
    delivery report for them. They are the union's (sent by nobody), so an officer who acted and
    later erases her data does not stop them. `reply_markup` (JSON of inline buttons) goes
    under every one of them.
    """
    if not notices:
        return
    now = to_iso(context.clock.now())
    await deliveries.enqueue_personal(context.db, NewBroadcast(
        draft_key=f"{kind}:{unit_id}:{secrets.token_hex(8)}", created_by=SYSTEM_SENDER,
        sender_chat_id=SYSTEM_SENDER, unit_id=unit_id, audience=kind, text_html="",
        photo_file_id=None, scheduled_at=now, kind=kind, reply_markup=reply_markup), notices,
        now=now)
    context.delivery.wake()


async def stop_lost_notices(context: BotContext) -> None:
    """A role taken away or a unit moved: notices their senders may no longer send stop now."""
    for broadcast_id in await senders.stop_unauthorised(
        context.db, context.settings.admin_ids, to_iso(context.clock.now()), only_due=False
    ):
        context.delivery.cancelled(broadcast_id)

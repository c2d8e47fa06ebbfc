"""Channels the bot talks through (Telegram, `zalo`), and their in-process fakes
(`telegram_fake`, `zalo.fake`) the tests and the demo run on."""

from storage.channels import CHANNEL_ID_BASE

TELEGRAM = "telegram"
ZALO = "zalo"


def channel_of(chat_id: int) -> str:
    """Which channel a member's chat is on: ids from 2^52 up are Zalo's (see storage.channels);
    Telegram ids never get there (at most 52 significant bits)."""
    return ZALO if chat_id >= CHANNEL_ID_BASE else TELEGRAM

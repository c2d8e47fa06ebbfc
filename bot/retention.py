"""The daily retention job: keep personal data no longer than the README's retention table says.

Runs once a day at 03:30 in BOT_TIMEZONE (PTB's JobQueue; tests call `apply` with a
controlled clock). The rules and their settings are in `storage/retention.py`; members who
left are erased with `storage.privacy.erase` (reason 'retention'), exactly as if they had
sent /deleteme, so their registrations keep counting without their names. Idempotent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import time, timedelta
from typing import Any

from storage import privacy, retention
from storage.db import to_iso

log = logging.getLogger(__name__)

RUN_AT = time(3, 30)  # local time: the quietest hour
MEMBERSHIP = "membership"  # the purpose of the membership consent (handlers/registration.py)


@dataclass(frozen=True, slots=True)
class Retained:
    """What one run removed (counts only: the log carries no names)."""

    deliveries: int
    variants: int
    members_erased: int


async def apply(application: Any) -> Retained:
    """Delete old delivery rows and erase members who left long ago."""
    state = application.bot_data
    db, settings, now = state.db, state.settings, state.clock.now()
    deliveries, variants = await retention.prune_deliveries(
        db, before=to_iso(now - timedelta(days=settings.retain_deliveries_days)))
    # N years as days, leap days included: never earlier than the README promises.
    since = now - timedelta(days=366 * settings.retain_left_members_years)
    left = await retention.left_members(db, before=to_iso(since), purpose=MEMBERSHIP)
    for member in left:
        await privacy.erase(db, member.member_id, member.telegram_user_id, reason="retention",
                            purpose=MEMBERSHIP, version=member.consent_version, at=to_iso(now))
        application.drop_user_data(member.telegram_user_id)
    done = Retained(deliveries, variants, len(left))
    log.info("retention: %d delivery rows, %d variants deleted, %d members who left erased",
             done.deliveries, done.variants, done.members_erased)
    return done

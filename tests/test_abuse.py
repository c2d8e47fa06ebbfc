"""Abuse resistance: flooding, forged button presses for every button type, oversized input."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from telegram.ext import CallbackQueryHandler, ConversationHandler

from bot import flood
from bot.clock import ManualClock
from storage import campaigns, deliveries, members, units
from storage.db import Database, to_iso
from storage.deliveries import NewBroadcast
from tests.conftest import ADMIN_ID, grant, register_member

JUNE_2026 = datetime(2026, 6, 15, 3, 0, tzinfo=UTC)
YEAR = 2026
REPO = Path(__file__).resolve().parent.parent
# Tables that change with every update whatever it does (drafts, flow states, update ids).
VOLATILE = ("user_data", "conversations", "seen_updates", "schema_migrations")


@pytest.fixture
def clock() -> ManualClock:
    """Mid-June 2026."""
    return ManualClock(JUNE_2026)


async def snapshot(db: Database) -> dict[str, list[tuple]]:
    """Every stored row outside the volatile tables."""
    names = [r[0] for r in await db.fetchall(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    return {name: [tuple(r) for r in await db.fetchall(f"SELECT * FROM {name} ORDER BY 1")]
            for name in names if name not in VOLATILE}


# --- flooding ----------------------------------------------------------------------------------


async def test_a_flooding_member_gets_one_notice_and_is_paused_without_slowing_others(
    app, person, db, clock
):
    await register_member(db, 8101, "HM-HL-02")
    await register_member(db, 8102, "HM-HL-02")
    hoa, lan = person(8101), person(8102)
    answered = 0
    for i in range(60):
        await hoa.send("/help" if i % 2 else "xin chào")
        answered += sum(1 for c in hoa.replies() if c.method == "sendMessage")
        if i == 30:  # meanwhile another member is answered at once
            await lan.send("/help")
            assert "/standard" in lan.reply_text()
    notices = [c for c in hoa.api.sent(8101) if "rất nhanh" in str(c.params.get("text"))]
    assert len(notices) == 1, "one calm notice, not one per message"
    assert answered == flood.LIMIT + 1, "20 answers, then the notice, then silence"
    message_id = hoa.api.messages(8101)[-1]["message_id"]
    await hoa.press_data(message_id, "std:2026:o:reg")  # a press while paused: answered, dropped
    assert [c.method for c in hoa.replies()] == ["answerCallbackQuery"]
    assert await campaigns.registration(
        db, campaigns.STANDARD, (await members.by_user(db, 8101)).id, YEAR) is None
    clock.advance(flood.COOLDOWN + 1)
    await hoa.send("/help")
    assert "/standard" in hoa.reply_text(), "answered again after the cool-down"
    assert hoa.errors() == []


async def test_flood_control_forgets_people_who_went_quiet():
    gate = flood.FloodGate()
    for user_id in range(flood.SWEEP_EVERY - 1):
        assert not gate.arrive(user_id, 0.0)
    assert not gate.arrive(1, flood.WINDOW + 5)  # the sweep runs on this one
    assert len(gate._recent) == 1


# --- forged presses ----------------------------------------------------------------------------


def callback_prefixes(app) -> set[str]:
    """Every callback-data prefix a handler of the application routes, read from the handlers."""
    found: set[str] = set()

    def visit(handler) -> None:
        if isinstance(handler, ConversationHandler):
            for inner in [*handler.entry_points, *handler.fallbacks,
                          *[h for hs in handler.states.values() for h in hs]]:
                visit(inner)
        elif isinstance(handler, CallbackQueryHandler) and handler.pattern is not None:
            pattern = getattr(handler.pattern, "pattern", handler.pattern)
            match = re.match(r"\^(?:\\?\()?([a-z]+)", str(pattern))
            assert match, f"unexpected pattern {pattern!r}"
            found.add(match.group(1))

    for handlers in app.handlers.values():
        for handler in handlers:
            visit(handler)
    return found


OWN = ("std", "fam", "pv", "lang", "me")
STILL_FORGED = ("std:2025:o:reg", "fam:2025:i:o:reg", "pv:d:abcdef:o:yes",
                "pv:c:membership:1:o:yes", "lang:o:fr", "lang:o")
GENERIC = ["{p}", "{p}:", "{p}:zz", "{p}:999999:o:1", "{p}:0:o:x", "{p}:" + "9" * 40,
           "{p}:a:b:c:d:e:f:g", "{p}:p:-1", "{p}:x:999999", "{p}:o:" + "é" * 10,
           "{p}:2026:o:reg", "{p}:1:2:3:4:5:o:sa", "{p}:" + "x" * 70]


@pytest.fixture
async def world(app, db, api):
    """A member with a household, two chapter heads in different wards, a scheduled notice."""
    hoa = await register_member(db, 8201, "HM-HL-02")
    lan = await register_member(db, 8202, "HM-HL-02")
    mai = await register_member(db, 8203, "HM-YS-03")
    await grant(db, lan, "chapter_head", "HM-HL-02")
    await grant(db, mai, "chapter_head", "HM-YS-03")
    chapter = await units.by_code(db, "HM-HL-02")
    assert chapter is not None
    reg, _ = await campaigns.register(db, campaigns.STANDARD, year=YEAR, member_id=hoa,
                                      unit_id=chapter.id, at="2026-02-01T00:00:00Z")
    await campaigns.register(db, campaigns.FAMILY, year=YEAR, member_id=hoa,
                             unit_id=chapter.id, at="2026-02-01T00:00:00Z")
    notice = await deliveries.create(db, NewBroadcast(
        draft_key="k", created_by=8202, sender_chat_id=8202, unit_id=chapter.id,
        audience="all", text_html="Họp", photo_file_id=None,
        scheduled_at=to_iso(JUNE_2026 + timedelta(days=1))))
    assert notice is not None
    api.user(ADMIN_ID, first_name="Admin")
    return {"hoa": hoa, "lan": lan, "mai": mai, "chapter": chapter.id, "reg": reg.id,
            "notice": notice.id, "ward": chapter.parent_id}


async def test_every_button_type_refuses_forged_presses(app, person, db, world, caplog, clock):
    prefixes = callback_prefixes(app)
    assert {"reg", "me", "lang", "units", "bc", "bcl", "std", "fam", "ev", "yr", "pv"} <= prefixes
    w = world
    unit, hoa_id = w["chapter"], w["hoa"]
    # Presses that are well formed but not hers to make (someone else's chapter, a role she
    # does not have, a flow she is not in, a year not this one).
    targeted = {
        "reg": ["reg:abcdef:k:o:ok", "reg:abcdef:c:o:yes", "reg:abcdef:u:o:" + str(unit)],
        "me": ["me:edit", "me:edit:1"],
        "lang": ["lang:o:fr", "lang:o"],
        "units": ["units:p:1", "units:p:0"],
        "bc": ["bc:abcdef:s:o:now", f"bc:abcdef:a:o:to{unit}"],
        "bcl": [f"bcl:x:{w['notice']}", "bcl:p:3"],
        "std": ["std:2025:o:reg", "std:2026:o:withdraw", "std:2026:o:q.sang_tao"],
        "fam": ["fam:2025:i:o:reg", "fam:2026:s:o:withdraw", "fam:2026:c:o:khong_doi_ngheo"],
        "ev": [f"ev:l:{unit}:{YEAR}:o:all", f"ev:c:{unit}:{YEAR}:0:{hoa_id}:o:sa",
               f"ev:k:{unit}:{YEAR}:s:o:yes", f"ev:n:{YEAR}:{w['ward']}:o:{unit}"],
        "yr": [f"yr:{YEAR}:{unit}:o:yes", f"yr:{YEAR}:0:o:yes"],
        "pv": ["pv:d:abcdef:o:yes", "pv:w:membership:x", "pv:c:membership:1:o:yes",
               "pv:w:nothing"],
        "set": ["set:o:zzz", "set:x:rem", "set:o"],
    }
    # Who forges: someone not registered, a plain member, and a chapter head of another ward
    # (for the chapter-scoped buttons); the plain member is the one the data is about.
    stranger, member, other_head = person(8209), person(8201), person(8203)
    for somebody in (stranger, member, other_head):
        await somebody.send("/help")  # a real message of the bot in her chat, to press on
    before = await snapshot(db)
    caplog.set_level(logging.WARNING)
    pressed = 0
    problems: list[tuple] = []
    logged = len(caplog.records)
    for prefix in sorted(prefixes):
        forged = [g.format(p=prefix) for g in GENERIC] + targeted.get(prefix, [])
        for data in forged:
            for somebody in (stranger, member, other_head):
                # The member's own buttons: only the malformed variants are forgeries.
                if somebody is member and prefix in OWN and data in targeted.get(
                        prefix, []) and data not in STILL_FORGED:
                    continue
                last = somebody.api.messages(somebody.id)[-1]["message_id"]
                for message_id in (last, 999_999):
                    clock.advance(1)  # slower than the flood limit: every press is handled
                    await somebody.press_data(message_id, data)
                    pressed += 1
                    calls = somebody.replies()
                    answers = [c for c in calls if c.method == "answerCallbackQuery"]
                    if len(answers) != 1:
                        problems.append((somebody.id, data, "answers",
                                         [c.method for c in calls]))
                    # Editing the message a forged press names may fail as it would on
                    # Telegram (no such message; nothing to change): handled, not an error.
                    rejected = [c.description for c in somebody.errors() if not re.search(
                        "message to edit not found|message is not modified", c.description or "")]
                    if rejected:
                        problems.append((somebody.id, data, "rejected", rejected))
                    failed = [r for r in caplog.records[logged:] if r.levelno >= logging.ERROR]
                    if failed:
                        problems.append((somebody.id, data, "error",
                                         repr(failed[0].exc_info[1] if failed[0].exc_info
                                              else failed[0].getMessage())))
                    logged = len(caplog.records)
                    sent = [c for c in calls if c.method in ("sendMessage", "sendPhoto")
                            and "Họp" in str(c.params.get("text"))]
                    assert sent == [], "no notice went out"
    assert problems == [], "\n".join(map(str, problems))
    assert pressed > 600
    assert not any("rất nhanh" in str(c.params.get("text")) for c in app.bot.request.calls
                   if hasattr(app.bot.request, "calls")), "no press was dropped as a flood"
    assert await snapshot(db) == before, "no forged press changed anything"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
    assert app.bot_data.delivery is not None
    reg = await campaigns.registration(db, campaigns.STANDARD, hoa_id, YEAR)
    assert reg is not None and reg.result is None


# --- oversized input ---------------------------------------------------------------------------

HUGE = "x" * 5_000_000


async def test_a_5_mb_text_is_refused_early_and_never_stored(person, db, app):
    hoa = person(8301)
    await hoa.send("/start")
    await hoa.press("1.")
    await hoa.send(HUGE)
    assert "quá dài" in hoa.reply_text() or "dài quá" in hoa.reply_text()
    await hoa.send("Nguyễn Thị Hoa")  # the flow goes on where it was
    assert "số điện thoại" in hoa.reply_text().lower()
    await hoa.send(HUGE)
    assert "dài quá" in hoa.reply_text()
    largest = await db.fetchone("SELECT max(length(data)) FROM user_data")
    assert largest is not None and largest[0] < 10_000
    await hoa.share_contact("+84912345678")
    rows = await db.fetchall("SELECT data FROM user_data")
    assert all(len(r[0]) < 10_000 for r in rows)


async def test_huge_captions_and_forged_contacts_are_refused(person, db, app, api):
    head = await register_member(db, 8302, "HM-HL-02")
    await grant(db, head, "chapter_head", "HM-HL-02")
    lan = person(8302)
    await lan.send("/broadcast")
    await lan.press("Tất cả hội viên")
    update = api.message_update(lan.user, caption="c" * 50_000, photo=True)
    await lan._feed(update)
    assert "dài quá" in lan.reply_text()
    assert await db.fetchall("SELECT id FROM broadcasts") == []
    hoa = person(8303)
    await hoa.send("/start")
    await hoa.press("1.")
    await hoa.send("Nguyễn Thị Hoa")
    await hoa._feed(api.contact_update(hoa.user, "0" * 100_000))
    assert "dài quá" in hoa.reply_text()
    assert api.sent(8303)[-1].params.get("text", "").count("0") < 100


async def test_photos_are_never_downloaded(person, db, app, api):
    head = await register_member(db, 8304, "HM-HL-02")
    await grant(db, head, "chapter_head", "HM-HL-02")
    lan, hoa = person(8304), person(8305)
    await lan.send_photo()  # outside any flow
    await hoa.send("/start")
    await hoa.press("1.")
    await hoa.send_photo()  # where a name is expected
    await lan.send("/broadcast")
    await lan.press("Tất cả hội viên")
    await lan.send_photo()  # a notice with a photo: only its file id is kept
    assert [c for c in api.calls if c.method == "getFile"] == []
    # And nowhere in the code: no getFile, no downloads.
    for folder in ("bot", "handlers", "storage"):
        for path in (REPO / folder).rglob("*.py"):
            if "telegram_fake" in path.parts:  # the fake serves getFile for tests
                continue
            source = path.read_text("utf-8")
            assert not re.search(r"get_file\(|download_to|download_as", source), path

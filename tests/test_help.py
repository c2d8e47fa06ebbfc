"""/help: short, by section, every command reachable."""

from __future__ import annotations

import dataclasses

from telegram.ext import CommandHandler

from bot.permissions import Role
from handlers import help as help_feature
from handlers.kit import menu
from storage import roles, units
from tests.conftest import ADMIN_ID, grant, register_member, start_application, stop_application


async def test_help_is_short_and_every_command_stays_reachable(person, db):
    """/help: members' commands, then one line per extra section; each section lists its own."""

    admin = person(ADMIN_ID)
    await register_member(db, ADMIN_ID, "HM-HL-02", name="Đỗ Thị Hằng")
    await admin.send("/help")
    overview = admin.reply_text()
    assert "/help_chapter" in overview and "/help_admin" in overview
    assert "/grant" not in overview and "/broadcast " not in overview
    reachable = set()
    for text in (overview, *[await _section(admin, name) for name in ("chapter", "admin")]):
        reachable |= {word[1:] for word in text.split() if word.startswith("/")}
    every = {name for commands in menu.COMMANDS.values() for name, _ in commands}
    assert every <= reachable

    member = person(5501)
    await register_member(db, 5501, "HM-HL-02")
    await member.send("/help")
    assert "/help_chapter" not in member.reply_text() and "/me" in member.reply_text()
    assert "/mydata" in member.reply_text() and "/deleteme" in member.reply_text()
    assert "/polls" in member.reply_text(), "a survey she scrolled past is found again"
    assert "gõ “hủy”" in member.reply_text(), "the word that stops, as on its buttons"
    await member.send("/help admin")  # not her section: her own help again
    assert "/grant" not in member.reply_text() and "/me" in member.reply_text()


async def _section(someone, name: str) -> str:
    await someone.send(f"/help {name}")
    return someone.reply_text()


async def test_help_names_the_union_that_runs_the_assistant(person, settings, api, clock, db):
    """BOT_ORG_NAME heads /help; unset, her ward's union; for a visitor the generic name."""
    member = person(5511)
    await register_member(db, 5511, "HM-HL-02")
    await member.send("/help")
    assert member.reply_text().startswith("<b>Trợ lý Hội LHPN phường Hoàng Liệt</b>")
    visitor = person(5512)
    await visitor.send("/help")
    assert visitor.reply_text().startswith("<b>Trợ lý Hội Liên hiệp Phụ nữ</b>")
    named = dataclasses.replace(settings, org_name="Hội LHPN phường Hoàng Liệt")
    fresh = await start_application(named, api, clock)
    try:
        member.app = fresh
        await member.send("/help")
        assert member.reply_text().startswith("<b>Trợ lý Hội LHPN phường Hoàng Liệt</b>")
    finally:
        await stop_application(fresh)


async def test_a_role_granted_or_revoked_shows_in_her_next_help(person, db):
    """The principal cache and the cached /help text: a grant or a revoke is seen at once."""
    head = person(5502)
    member_id = await register_member(db, 5502, "HM-HL-02")
    unit = await units.by_code(db, "HM-HL-02")
    assert unit is not None
    first_command = f"/{menu.COMMANDS[Role.CHAPTER_HEAD][0][0]} "
    await head.send("/help")
    assert "/help_chapter" not in head.reply_text()
    await roles.grant(db, member_id, Role.CHAPTER_HEAD, unit.id)
    await head.send("/help")  # no clock moved: a cached principal must not hide the role
    assert "/help_chapter" in head.reply_text()
    await head.send("/help chapter")
    assert first_command in head.reply_text()
    await roles.revoke(db, member_id, Role.CHAPTER_HEAD, unit.id)
    await head.send("/help chapter")  # no longer her section: her own help again
    assert first_command not in head.reply_text() and "/me" in head.reply_text()


async def test_every_command_the_assistant_answers_is_in_someones_help(app, person, db):
    """A command missing from /help and the Telegram menu is one nobody finds: a chapter head
    had no way to learn of /poll, a member none of /polls."""
    answered = {command for group in app.handlers.values() for handler in group
                if isinstance(handler, CommandHandler) for command in handler.commands}
    listed = {name for commands in menu.COMMANDS.values() for name, _ in commands}
    listed |= set(help_feature.SECTION_COMMANDS)  # the sections of /help itself
    assert answered <= listed, sorted(answered - listed)
    head = person(5503)
    member_id = await register_member(db, 5503, "HM-HL-02")
    await grant(db, member_id, Role.CHAPTER_HEAD, "HM-HL-02")
    assert "/poll " in await _section(head, "chapter")


async def test_a_head_opens_her_section_by_tapping_its_command(person, db):
    """Telegram links only one word: a tap on "/help chapter" sent "/help" and showed the same
    page again, a loop for a head who does not type. "/help_chapter" is one tappable command."""
    head = person(5504)
    await grant(db, await register_member(db, 5504, "HM-HL-02"), Role.CHAPTER_HEAD, "HM-HL-02")
    await head.send("/help")
    line = next(x for x in head.reply_text().splitlines() if "chi hội trưởng" in x)
    tapped = line.split()[0]  # what Telegram sends when she taps the line's command
    await head.send(tapped)
    assert "/broadcast " in head.reply_text() and "/poll " in head.reply_text()

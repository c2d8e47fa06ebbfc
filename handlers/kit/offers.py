"""What one feature offers on another feature's screen, without importing it.

/settings lists the settings that language, privacy and the reminders offer; the /stats summary
offers the chart and the export of its scope; the report flow offers /myreports its "✏️ Edit".
A feature registers its offer once, at import; the screen that shows it looks it up by key.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram import Update

from bot.context import BotContext
from storage.activities import Report


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting in the /settings menu."""

    key: str
    order: int
    """Its place in the menu (lower first)."""
    label: Callable[[BotContext], Awaitable[str]]
    applies: Callable[[BotContext], bool]
    choose: Callable[[Update, BotContext], Awaitable[str | None]]
    """Carry it out; returns a note to show above the refreshed menu (None: it replied)."""


ReportEdit = Callable[[Update, BotContext, Report], Awaitable[None]]
"""Open the report flow at its summary, prefilled with one of her reports."""

ScopeAction = Callable[[Update, BotContext, int | None, int], Awaitable[None]]
"""Something done for a scope (a unit's subtree, None: every unit) and a year."""

_SETTINGS: dict[str, Setting] = {}
_SCOPE_ACTIONS: dict[str, ScopeAction] = {}
_REPORT_EDIT: list[ReportEdit] = []


def offer_setting(setting: Setting) -> None:
    """Show `setting` in the /settings menu."""
    _SETTINGS[setting.key] = setting


def settings() -> list[Setting]:
    """Every setting offered, in menu order."""
    return sorted(_SETTINGS.values(), key=lambda s: s.order)


def offer_scope_action(key: str, action: ScopeAction) -> None:
    """Offer `action` under `key` on the screens of a scope (the /stats summary)."""
    _SCOPE_ACTIONS[key] = action


def scope_action(key: str) -> ScopeAction | None:
    """The action offered under `key`, if its feature is loaded."""
    return _SCOPE_ACTIONS.get(key)


def offer_report_edit(edit: ReportEdit) -> None:
    """The report flow offers /myreports' "✏️ Edit"."""
    _REPORT_EDIT[:] = [edit]


def report_edit() -> ReportEdit | None:
    """The report flow's "✏️ Edit", if it is loaded."""
    return _REPORT_EDIT[0] if _REPORT_EDIT else None


def is_member(context: BotContext) -> bool:
    """Whether she is a registered member (settings about her membership apply)."""
    return context.principal is not None and context.principal.member is not None

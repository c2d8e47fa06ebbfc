"""Numbers typed for a unit indicator, said once: how to type them, why one is refused, and how
a value reads ("1.500 hộ"). Shared by /figures (the month's figure) and /targets (its target).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from decimal import Decimal

from bot import indicators as catalog_of
from bot.context import BotContext
from bot.indicators import Indicator


def value_text(context: BotContext, indicator: Indicator, value: float | Decimal) -> str:
    """A value with its unit of measure, in Vietnamese number format."""
    number = Decimal(str(value))
    shown = context.t.number(number.normalize() if number == number.to_integral_value()
                             else number)
    return f"{shown} {html.escape(indicator.unit(context.t.locale))}"


def how(context: BotContext, indicator: Indicator) -> str:
    """How to type a number for this indicator (decimals only where its unit allows them)."""
    t = context.t
    uom = html.escape(indicator.unit(t.locale))
    if indicator.kind == "decimal":
        return t._("Please type the number in {unit}, e.g. 1.500 or 1,5 (a dot groups thousands, "
                   "a comma starts the decimals).", unit=uom)
    return t._("Please type the number in {unit} as a whole number, e.g. 1.500 (a dot groups "
               "thousands).", unit=uom)


def refusal(context: BotContext, indicator: Indicator, error: str | None) -> str:
    """Why a typed number was refused (bot.indicators.parse_number's error), and what to do."""
    t = context.t
    uom = html.escape(indicator.unit(t.locale))
    if error == "negative":
        return t._("A figure cannot be negative. Please type 0 or more.")
    if error == "decimal":
        return t._("“{label}” is counted in whole {unit}: please type a whole number, e.g. "
                   "1.500.", label=html.escape(indicator.label(t.locale)), unit=uom)
    if error == "huge":
        return t._("That is more than {max} {unit}. Please check the number and type it "
                   "again.", max=t.number(catalog_of.limit(indicator)), unit=uom)
    return t._("Sorry, I could not read that as a number.") + " " + how(context, indicator)


def numbered_lines(context: BotContext, indicators: Sequence[Indicator],
                   values: Mapping[str, float | Decimal | int], *, empty: str) -> list[str]:
    """"1. label: <b>value</b>" for each indicator (`empty` where it has none): the list under
    the numbers an officer taps in /figures and in /targets' work targets."""
    return [f"{number}. {html.escape(indicator.label(context.t.locale))}: " + (
        f"<b>{value_text(context, indicator, values[indicator.code])}</b>"
        if values.get(indicator.code) is not None else empty)
        for number, indicator in enumerate(indicators, 1)]

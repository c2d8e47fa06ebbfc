"""Multi-step flows on the one typed-answer router, declared like a ConversationHandler.

A flow is written as PTB's ConversationHandler is (entry points, states, fallbacks; callbacks
return the next state, `END` or None), so it reads top to bottom. But the step it waits at lives
in `user_data["flow"][name]` (persisted), and a typed answer reaches it only through the router
(`kit.answers`): the latest question asked in the chat owns the next typed answer, whichever
feature asked it, so a flow left open never swallows the answer to a later question.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import callbacks
from bot.choices import Choice
from bot.context import BotContext
from handlers.kit import answers
from handlers.kit.replies import answer_stale, pressed_option, retire_buttons, say, typed_text

END = ConversationHandler.END

Handler = BaseHandler[Any, Any, Any]
Step = Callable[[Update, BotContext], Coroutine[Any, Any, Any]]


def kept(context: BotContext, key: str) -> Any:
    """What a feature keeps in `user_data[key]` (a draft, the answer awaited, the latest screen
    shown); an empty dict, kept nowhere, when nothing is. Its accessor gives it its TypedDict."""
    return (context.user_data or {}).get(key) or {}


def on_step(prefix: str, step: str, callback: Step) -> CallbackQueryHandler[Any, Any]:
    """A button of one step of a draft: `<prefix>:<nonce>:<step>[:…]`."""
    return CallbackQueryHandler(callback, pattern=rf"^{prefix}:[0-9a-f]+:{step}(?::|$)")


def option_pressed(draft_key: str, choice: Callable[[BotContext], Choice],
                   chosen: Callable[[Update, BotContext, str], Coroutine[Any, Any, Any]]) -> Step:
    """A button of a draft's choice step (`…:o:<key>` of `choice`): the key it picked goes to
    `chosen`, the press answered and its buttons retired; a stale press is told so."""

    async def pressed(update: Update, context: BotContext) -> Any:
        option = await pressed_option(update, context, draft_key, choice(context))
        return None if option is None else await chosen(update, context, option.key)

    return pressed


def option_typed(choice: Callable[[BotContext], Choice],
                 chosen: Callable[[Update, BotContext, str], Coroutine[Any, Any, Any]]) -> Step:
    """The typed answer of a draft's choice step: the option typed by number or name goes to
    `chosen`; anything else is asked again (the step stays)."""

    async def typed(update: Update, context: BotContext) -> Any:
        option = choice(context).resolve(typed_text(update))
        if option is None:
            await say(update, context, context.t._(
                "Please tap one of the buttons or type its number."))
            return None
        return await chosen(update, context, option.key)

    return typed


_ASKED = "typed_number_asked"


def text_or_option(*, choice: Callable[[BotContext], Choice],
                   chosen: Callable[[Update, BotContext, str], Coroutine[Any, Any, Any]],
                   taken: Step,
                   keyboard: Callable[[BotContext], InlineKeyboardMarkup]) -> Step:
    """The typed answer of an optional free-text step that also shows options ("⏭ Skip"):
    /help promises every choice can be typed by its number, so a bare number that names an
    option presses it, and one that names none is asked back (with the step's `keyboard`)
    rather than kept as her text; typed again, it is kept. Other text goes to `taken`."""

    async def typed(update: Update, context: BotContext) -> Any:
        text = typed_text(update)
        options = choice(context)
        asked = context.user_data.pop(_ASKED, None) if context.user_data is not None else None
        if not answers.a_number(text) or not options.options:
            return await taken(update, context)
        number = text.strip().rstrip(".")
        option = options.resolve(number)
        if option is not None:
            return await chosen(update, context, option.key)
        if asked == [taken.__qualname__, number]:
            return await taken(update, context)
        if context.user_data is not None:
            context.user_data[_ASKED] = [taken.__qualname__, number]
        t = context.t
        lines = [t._("Did you mean to write “{number}”? If so, please type it once more; or "
                     "type the number of one of these:", number=number)]
        lines += options.listed()
        await say(update, context, "\n".join(lines), keyboard(context))
        return None

    return typed


async def not_an_answer(update: Update, context: BotContext) -> None:
    """Something that does not answer the current question of a draft flow."""
    await say(update, context, context.t._(
        "I cannot use that here. Please answer the last question with text or a button, "
        "or send /cancel to stop."))


def drop_draft(prefix: str) -> Step:
    """/cancel (or "✖ Hủy") of a draft kept in `user_data[prefix]` whose sending is its last
    step: drop it, say nothing was sent."""

    async def cancel(update: Update, context: BotContext) -> int:
        return await answers.cancel(update, context, prefix,
                                    context.t._("Cancelled; nothing was sent."))

    return cancel


def text_only(msgid: str) -> Step:
    """What a typed question answers to a photo or a sticker: `msgid` (a whole sentence); the
    question stays."""

    async def not_text(update: Update, context: BotContext) -> None:
        await say(update, context, context.t._(msgid))

    return not_text


class Flow:
    """One multi-step flow: its entry points, the handlers of each step, and its fallbacks."""

    def __init__(self, name: str, *, prefixes: Sequence[str], entry_points: list[Handler],
                 states: dict[str, list[Handler]], fallbacks: list[Handler]) -> None:
        self.name = name
        self.prefixes = tuple(prefixes)
        self.entry_points = entry_points
        self.states = states
        self.fallbacks = fallbacks

    @staticmethod
    def standard_fallbacks(prefix: str, *, cancel: Step,
                           wrong_input: Step = not_an_answer) -> list[Handler]:
        """What every draft flow answers at any step: /cancel, its "✖ Cancel" button
        (`<prefix>:<nonce>:x`), any other press of the flow as stale, and anything else that
        is not a command with `wrong_input` (by default `not_an_answer`)."""
        return [
            CommandHandler("cancel", cancel),
            CallbackQueryHandler(answer_stale, pattern=rf"^{prefix}:"),
            MessageHandler(~filters.COMMAND, wrong_input),
        ]

    def step(self, context: BotContext) -> str | None:
        """The step the flow waits at in this chat (None: not running)."""
        value = ((context.user_data or {}).get("flow") or {}).get(self.name)
        return value if isinstance(value, str) else None

    def enter(self, context: BotContext, step: str) -> None:
        """Wait at `step` from now on: another feature's screen opened the flow there."""
        self._record(context, step)

    def _record(self, context: BotContext, result: object) -> None:
        """Keep the step a callback returned; a new step is the chat's latest question."""
        if result is None or context.user_data is None:
            return
        steps = context.user_data.setdefault("flow", {})
        if result == END or not isinstance(result, str):
            steps.pop(self.name, None)
            for prefix in self.prefixes:
                answers.release(context, prefix)
            return
        steps[self.name] = result
        if answers.latest(context) not in self.prefixes:
            answers.ask(context, self.prefixes[0])

    def _recorded(self, callback: Step) -> Step:
        @functools.wraps(callback)
        async def recorded(update: Update, context: BotContext) -> Any:
            result = await callback(update, context)
            self._record(context, result)
            return result

        return recorded

    def _candidates(self, context: BotContext) -> list[Handler]:
        step = self.step(context)
        return [*self.states.get(step, []), *self.fallbacks] if step is not None else []

    async def _run_first(self, update: Update, context: BotContext, kind: type) -> bool:
        """Run the first handler of the current step (then the fallbacks) that takes this."""
        for handler in self._candidates(context):
            if isinstance(handler, kind) and handler.check_update(update):
                self._record(context, await handler.callback(update, context))
                return True
        return False

    async def _press(self, update: Update, context: BotContext) -> None:
        """A button of this flow: what the current step does with it, else stale."""
        if await self._run_first(update, context, CallbackQueryHandler):
            return
        await answer_stale(update, context)
        if update.callback_query is not None:
            await retire_buttons(update.callback_query)

    async def _typed(self, update: Update, context: BotContext, text: str) -> bool:
        return await self._run_first(update, context, MessageHandler)

    async def _other(self, update: Update, context: BotContext) -> bool:
        return await self._run_first(update, context, MessageHandler)

    async def _cancel(self, update: Update, context: BotContext) -> bool:
        message = update.effective_message
        typed_word = message is not None and not (message.text or "/").startswith("/")
        if update.callback_query is not None or typed_word:  # "✖ Cancel" pressed, "hủy" typed
            for handler in self._candidates(context):
                if isinstance(handler, CommandHandler) and "cancel" in handler.commands:
                    self._record(context, await handler.callback(update, context))
                    return True
            return False
        return await self._run_first(update, context, CommandHandler)

    def handlers(self) -> list[Handler]:
        """The entry points, then one handler per button pattern of the steps; typed answers
        and /cancel are registered with the router."""
        for prefix in self.prefixes:
            answers.register(prefix, self._typed, cancel=self._cancel, other=self._other)
        found: list[Handler] = []
        for handler in self.entry_points:
            handler.callback = self._recorded(handler.callback)
            found.append(handler)
        patterns: set[object] = set()
        for handler in [*(h for hs in self.states.values() for h in hs), *self.fallbacks]:
            if isinstance(handler, CallbackQueryHandler) and handler.pattern not in patterns:
                patterns.add(handler.pattern)
                found.append(CallbackQueryHandler(self._press, pattern=handler.pattern))
        return found


def screens_flow(name: str, *, prefix: str, command: str, opened: Step, pressed: Step,
                 screen: tuple[str, Step], asked: dict[str, Step], not_text: Step,
                 cancel: Step) -> list[Handler]:
    """A flow of screens (`prefix:` buttons) opened by /`command` or by one of its buttons: at
    `screen` a typed number answers the latest screen, at each step of `asked` its typed text
    is taken and anything else that is not a command gets `not_text`; /cancel leaves."""
    not_text_answer = ~filters.COMMAND & ~filters.TEXT
    states: dict[str, list[Handler]] = {screen[0]: [MessageHandler(answers.ANSWER, screen[1])]}
    for step, typed in asked.items():
        states[step] = [MessageHandler(answers.ANSWER, typed),
                        MessageHandler(not_text_answer, not_text)]
    return Flow(
        name,
        prefixes=(prefix,),
        entry_points=[
            CommandHandler(command, opened, filters.ChatType.PRIVATE),
            CallbackQueryHandler(pressed, pattern=callbacks.pattern(prefix)),
        ],
        states=states,
        fallbacks=[CommandHandler("cancel", cancel)],
    ).handlers()

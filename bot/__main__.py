"""Command line: `python -m bot [run|demo|migrate|check|backup|units …|roles …|targets …|
criteria …]` (also `hoivien-bot`)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.settings import Settings, SettingsError

log = logging.getLogger("bot")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="hoivien-bot: the Women's Union member bot. Without a command it runs on "
        "Telegram when TELEGRAM_BOT_TOKEN is set, else the offline demo.",
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        type=str.upper,
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="how much to log (default INFO)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = commands.add_parser("run", help="run on Telegram with long polling (needs the token)")
    run.add_argument("--webhook", action="store_true",
                     help="receive updates on a webhook instead (BOT_WEBHOOK_URL, "
                     "BOT_WEBHOOK_SECRET, BOT_WEBHOOK_LISTEN, BOT_WEBHOOK_PORT)")
    commands.add_parser("check", help="check settings, database, catalogs and (with a token) "
                        "the Bot API; exit code 0 or 1")
    backup = commands.add_parser("backup", help="a consistent copy of the database, also "
                                 "while the bot runs")
    backup.add_argument("path", type=Path, help="the backup file, or a folder for a "
                        "timestamped file")
    demo = commands.add_parser("demo", help="try the bot offline in this terminal")
    demo.add_argument("--database", type=Path, default=Path("data/demo.sqlite3"),
                      help="demo database (default data/demo.sqlite3, seeded if empty)")
    demo.add_argument("--channel", choices=["telegram", "zalo"], default="telegram",
                      help="zalo: exactly what a Zalo member sees (no buttons; typed numbers)")
    commands.add_parser("migrate", help="apply database migrations")

    units = commands.add_parser("units", help="the organisation tree")
    unit_commands = units.add_subparsers(dest="units_command", metavar="ACTION", required=True)
    unit_import = unit_commands.add_parser(
        "import", help="load units from CSV (code,name,kind,parent_code); idempotent"
    )
    unit_import.add_argument("file", type=Path)
    unit_commands.add_parser("list", help="print the tree with member counts")

    roles = commands.add_parser("roles", help="chapter heads and unit admins")
    role_commands = roles.add_subparsers(dest="roles_command", metavar="ACTION", required=True)
    for action in ("grant", "revoke"):
        cmd = role_commands.add_parser(action, help=f"{action} a role to a registered member")
        cmd.add_argument("telegram_user_id", type=int)
        cmd.add_argument("role", choices=["chapter_head", "unit_admin", "request_handler"])
        cmd.add_argument("unit_code")

    goals = commands.add_parser("targets", help="yearly targets (chỉ tiêu) per unit")
    goal_commands = goals.add_subparsers(dest="targets_command", metavar="ACTION", required=True)
    goal_import = goal_commands.add_parser(
        "import", help="load targets from CSV (unit_code,year,metric,value); all or nothing"
    )
    goal_import.add_argument("file", type=Path)

    sets = commands.add_parser("criteria", help="the family criteria sets per campaign year")
    set_commands = sets.add_subparsers(dest="criteria_command", metavar="ACTION", required=True)
    set_load = set_commands.add_parser(
        "load", help="load a criteria set (id, name, [[criteria]]) for a year and the years "
        "after it; validated, idempotent; registrations keep the set they were made under")
    set_load.add_argument("file", type=Path)
    set_load.add_argument("--year", type=int, required=True,
                          help="the first campaign year the set applies to")
    set_load.add_argument("--dry-run", action="store_true",
                          help="only show what would change")
    set_commands.add_parser("list", help="print which set applies to which years")
    return parser


def _run_problem(settings: Settings, *, webhook: bool) -> str | None:
    """The one line that stops `run` before it starts (exit 2), or None."""
    if not (settings.token or settings.zalo_token):
        return ("Configuration error: TELEGRAM_BOT_TOKEN: not set; get a token from @BotFather, "
                "or set ZALO_BOT_TOKEN (or try the offline demo: python -m bot demo)")
    if webhook and (problem := _webhook_problem(settings)):
        return f"Configuration error: {problem}"
    if bool(settings.zalo_webhook_url) != bool(settings.zalo_webhook_secret):
        return ("Configuration error: ZALO_WEBHOOK_URL and ZALO_WEBHOOK_SECRET: set both for "
                "Zalo webhook mode, or neither for long polling")
    if (problem := _catalog_problem(settings, settings.database)) is not None:
        return f"Catalog error: {problem}"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (2 for bad settings or usage).

    Output piped into a reader that stops early (`units list | head`) ends quietly, as other
    command-line tools do, not in a BrokenPipeError traceback."""
    try:
        code = _main(argv)
        sys.stdout.flush()  # a pipe is block-buffered: the write happens here
        return code
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # the interpreter's last flush must not fail
        return 1


def _main(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    from bot.logging_setup import configure

    configure(args.log_level)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    command = args.command or ("run" if settings.token or settings.zalo_token else "demo")
    if command == "run":
        if (problem := _run_problem(settings, webhook=getattr(args, "webhook", False))):
            print(problem, file=sys.stderr)
            return 2
        return _run(settings, webhook=getattr(args, "webhook", False))
    if command == "check":
        return _check(settings)
    if command == "backup":
        return _backup(settings, args.path)
    if command == "demo":
        from bot.demo import run_demo

        if args.log_level == "INFO":  # the console is the demo's screen: no line per update
            logging.getLogger("bot.updates").setLevel(logging.WARNING)
        demo_database = getattr(args, "database", None) or Path("data/demo.sqlite3")
        if (problem := _catalog_problem(settings, demo_database)) is not None:
            print(f"Catalog error: {problem}", file=sys.stderr)
            return 2
        if getattr(args, "channel", "telegram") == "zalo":
            from bot.channels.zalo.demo import run_zalo_demo

            return asyncio.run(run_zalo_demo(settings, database=demo_database))
        return asyncio.run(run_demo(settings, database=getattr(args, "database", None)))
    return asyncio.run(_admin_command(settings, args))


def _catalog_problem(settings: Settings, database: Path) -> str | None:
    """Why the campaign catalog cannot be used with this database (one line), if it cannot."""
    from bot.catalog import CatalogError, check_stored_codes, load, with_stored_sets
    from storage.db import Database

    async def check() -> None:
        db = await Database.connect(database)
        try:
            await check_stored_codes(db, await with_stored_sets(db, catalog))
        finally:
            await db.close()

    try:
        catalog = load(settings.catalog)
        asyncio.run(check())
    except CatalogError as exc:
        return " ".join(str(exc).split())
    return None


def _webhook_problem(settings: Settings) -> str | None:
    """What is missing for `run --webhook` (one line), if anything."""
    if settings.webhook_url is None:
        return "BOT_WEBHOOK_URL: not set; the public https:// URL Telegram sends updates to"
    if settings.webhook_secret is None:
        return ("BOT_WEBHOOK_SECRET: not set; 16-256 characters A-Z a-z 0-9 _ - that Telegram "
                "sends with every update")
    return None


def _run(settings: Settings, *, webhook: bool = False) -> int:
    from bot.app import build_application
    from bot.channels.zalo import service as zalo
    from bot.ops import serve, start_failure

    async def run_channels() -> None:
        both = await zalo.with_zalo_admins(settings)
        if not settings.zalo_token:
            await serve(build_application(both), both, webhook=webhook)
            return
        stop = asyncio.Event()
        if not settings.token:  # Zalo alone: its Application runs the outbox and reminders
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            prepared = zalo.prepare(both)
            await zalo.verify(prepared)
            await zalo.serve(prepared, stop, both)
            return
        telegram = build_application(both)
        prepared = zalo.prepare(both, telegram=telegram)
        await zalo.verify(prepared)
        zalo_task = asyncio.create_task(zalo.serve(prepared, stop, both))
        try:
            await serve(telegram, both, webhook=webhook, stop_event=stop)
        finally:
            stop.set()
            await zalo_task

    log.info("starting %s", " and ".join(
        name for name, token in (("Telegram", settings.token), ("Zalo", settings.zalo_token))
        if token))
    try:
        asyncio.run(run_channels())
    except Exception as exc:
        if (line := start_failure(exc, settings)) is None:
            raise
        print(line, file=sys.stderr)
        return 1
    return 0


def _check(settings: Settings) -> int:
    from bot.ops import check

    findings = asyncio.run(check(settings))
    for finding in findings:
        print(finding)
    return 0 if all(f.ok for f in findings) else 1


def _backup(settings: Settings, path: Path) -> int:
    from bot.ops import BackupError, backup

    try:
        done = backup(settings.database, path)
    except BackupError as exc:
        print(f"Backup failed: {exc}", file=sys.stderr)
        return 1
    print(f"backup written: {done.path} ({done.size / 1e6:.1f} MB, {done.members} members, "
          "integrity ok)")
    return 0


async def _admin_command(settings: Settings, args: argparse.Namespace) -> int:
    from bot.admin_cli import run_admin_command

    return await run_admin_command(settings, args)


if __name__ == "__main__":
    sys.exit(main())

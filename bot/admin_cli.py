"""The administrative CLI commands: migrate, units import/list, roles grant/revoke, targets,
criteria load/list."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from bot import orgtree, senders
from bot.settings import Settings
from bot.unit_import import ImportError_, import_file
from storage import members, roles, units
from storage.db import Database, to_iso


async def run_admin_command(settings: Settings, args: argparse.Namespace) -> int:
    """Run one command against the configured database; returns the exit code."""
    db = Database(settings.database)
    await db.open(migrate=False)
    try:
        if args.command == "migrate":
            applied = await db.migrate()
            print(f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied)
                                                            if applied else ""))
            return 0
        await db.migrate()
        if args.command == "units":
            return await _units(db, args)
        if args.command == "targets":
            return await _targets(db, args, settings)
        if args.command == "criteria":
            return await _criteria(db, args, settings)
        return await _roles(db, args, settings)
    finally:
        await db.close()


async def _units(db: Database, args: argparse.Namespace) -> int:
    if args.units_command == "import":
        try:
            created, updated = await import_file(db, args.file)
        except ImportError_ as exc:
            print(f"{args.file}: {exc}; nothing was changed", file=sys.stderr)
            return 1
        print(f"{args.file}: {created} unit(s) created, {updated} updated")
        return 0
    counts = await members.subtree_counts(db)
    tree = await orgtree.sorted_tree(db)
    if not tree:
        print("no units yet: python -m bot units import FILE.csv")
    for unit, depth in tree:
        print(f"{'  ' * depth}{unit.code}  {unit.name}  [{unit.kind}]  {counts.get(unit.id, 0)}")
    return 0


async def _roles(db: Database, args: argparse.Namespace, settings: Settings) -> int:
    member = await members.by_user(db, args.telegram_user_id)
    unit = await units.by_code(db, args.unit_code)
    if member is None:
        print(f"no registered member with Telegram id {args.telegram_user_id}", file=sys.stderr)
        return 1
    if unit is None:
        print(f"no unit with code {args.unit_code!r}", file=sys.stderr)
        return 1
    if args.roles_command == "grant":
        changed = await roles.grant(db, member.id, args.role, unit.id)
    else:
        changed = await roles.revoke(db, member.id, args.role, unit.id)
        # Her notices to units she may no longer address stop (the running bot checks too).
        await senders.stop_unauthorised(db, settings.admin_ids, to_iso(datetime.now(UTC)),
                                        only_due=False)
    print(f"{args.roles_command} {args.role} {unit.code}: {'done' if changed else 'no change'}")
    return 0


async def _targets(db: Database, args: argparse.Namespace, settings: Settings) -> int:
    from bot import indicators
    from bot.catalog import campaign_year
    from bot.target_import import TargetFileError, import_file

    now = datetime.now(UTC)
    codes = [i.code for i in indicators.load(settings.indicators).entries]
    try:
        changed, same = await import_file(
            db, args.file, last_year=campaign_year(now, settings.timezone) + 1, at=to_iso(now),
            indicators=codes)
    except TargetFileError as exc:
        print(f"{args.file}: {exc}; nothing was changed", file=sys.stderr)
        return 1
    print(f"{args.file}: {changed} target(s) set or changed, {same} unchanged")
    return 0


async def _criteria(db: Database, args: argparse.Namespace, settings: Settings) -> int:
    """`criteria load FILE --year Y [--dry-run]` and `criteria list`; errors exit 2."""
    from bot import criteria_load
    from bot.catalog import CatalogError, load, with_stored_sets

    try:
        catalog = await with_stored_sets(db, load(settings.catalog))
        if args.criteria_command == "list":
            print("\n".join(criteria_load.timeline(catalog)))
            return 0
        plan = await criteria_load.plan(db, catalog, args.file, year=args.year)
    except CatalogError as exc:
        print(f"{' '.join(str(exc).split())}; nothing was changed", file=sys.stderr)
        return 2
    print("\n".join(criteria_load.describe(plan)))
    if args.dry_run:
        print("dry run: nothing was changed")
    elif await criteria_load.apply(db, plan, at=to_iso(datetime.now(UTC))):
        print(f"loaded: set {plan.new.id!r} applies from {args.year}; restart the bot to use it")
    return 0

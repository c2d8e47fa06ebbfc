"""The shared connection: one task's open transaction is invisible to every other task."""

from __future__ import annotations

import asyncio

import pytest

from storage.db import Database

DEADLOCK_GUARD = 5.0  # seconds; only reached if a task waits forever


class Rollback(Exception):
    """Ends the writer's transaction with a rollback."""


async def values(db: Database) -> list[int]:
    return [row[0] for row in await db.fetchall("SELECT x FROM scratch ORDER BY x")]


async def test_a_read_never_sees_another_tasks_uncommitted_rows(db: Database) -> None:
    await db.execute("CREATE TABLE scratch (x INTEGER)")
    inside, release = asyncio.Event(), asyncio.Event()

    async def writer() -> None:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO scratch VALUES (1)")
            assert await values(db) == [1], "the transaction's own task sees its row"
            inside.set()
            await release.wait()
            raise Rollback

    writing = asyncio.create_task(writer())
    await asyncio.wait_for(inside.wait(), DEADLOCK_GUARD)
    reading = asyncio.create_task(values(db))
    other_write = asyncio.create_task(db.execute("INSERT INTO scratch VALUES (2)"))
    await asyncio.sleep(0)  # one turn: both are issued while the transaction is open
    assert not reading.done() and not other_write.done()
    release.set()
    with pytest.raises(Rollback):
        await writing
    seen = await asyncio.wait_for(reading, DEADLOCK_GUARD)
    await asyncio.wait_for(other_write, DEADLOCK_GUARD)
    assert 1 not in seen, "the uncommitted row was never visible to the other task"
    assert await values(db) == [2], "the other task's write was not rolled back with it"


async def test_a_read_after_the_commit_sees_the_rows(db: Database) -> None:
    await db.execute("CREATE TABLE scratch (x INTEGER)")
    inside, release = asyncio.Event(), asyncio.Event()

    async def writer() -> None:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO scratch VALUES (1)")
            inside.set()
            await release.wait()
            await conn.execute("INSERT INTO scratch VALUES (3)")

    writing = asyncio.create_task(writer())
    await asyncio.wait_for(inside.wait(), DEADLOCK_GUARD)
    reading = asyncio.create_task(db.fetchone("SELECT count(*) FROM scratch"))
    await asyncio.sleep(0)
    release.set()
    await writing
    row = await asyncio.wait_for(reading, DEADLOCK_GUARD)
    assert row is not None and row[0] == 2, "it waited for the commit, never half of it"

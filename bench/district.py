"""The organisation tree the benchmarks build: Hoàng Mai's 14 wards with 18 chapters each.

A helper, not a benchmark. It seeds through `storage.units` like a `/units import` does, so a
benchmark's data follows the schema wherever the migrations take it (raw INSERTs did not).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from storage import units
from storage.db import Database
from storage.units import UnitRow

WARDS = ("Hoàng Liệt", "Yên Sở", "Vĩnh Hưng", "Định Công", "Đại Kim", "Thịnh Liệt",
         "Thanh Trì", "Lĩnh Nam", "Trần Phú", "Mai Động", "Tương Mai", "Tân Mai", "Giáp Bát",
         "Hoàng Văn Thụ")
CHAPTERS_PER_WARD = 18


@dataclass(frozen=True, slots=True)
class District:
    """Unit ids of the tree built: the district, its wards, and every chapter in ward order."""

    district: int
    wards: list[int]
    chapters: list[int]


async def build_tree(db: Database, *, wards: Sequence[str] = WARDS,
                     chapters_per_ward: int = CHAPTERS_PER_WARD) -> District:
    """District HM, wards HM-00 … (named "Phường …"), chapters HM-00-01 … ("Chi hội tổ dân
    phố số N"), in one `units.upsert_many`."""
    rows = [UnitRow("HM", "Quận Hoàng Mai", "district", None)]
    for index, ward in enumerate(wards):
        rows.append(UnitRow(f"HM-{index:02d}", f"Phường {ward}", "ward", "HM"))
        rows += [UnitRow(f"HM-{index:02d}-{number:02d}", f"Chi hội tổ dân phố số {number}",
                         "chapter", f"HM-{index:02d}")
                 for number in range(1, chapters_per_ward + 1)]
    await units.upsert_many(db, rows)
    ids = {unit.code: unit.id for unit, _depth in await units.tree(db)}
    return District(
        district=ids["HM"],
        wards=[ids[f"HM-{index:02d}"] for index in range(len(wards))],
        chapters=[ids[f"HM-{index:02d}-{number:02d}"] for index in range(len(wards))
                  for number in range(1, chapters_per_ward + 1)],
    )

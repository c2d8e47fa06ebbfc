"""Disclosure control: which cells of a sensitive breakdown may be shown, for the whole tree.

Every figure derived from criterion answers (and later from anonymous poll answers) goes
through `protect`, so the screen, every drill-down level, the chart and the export sheets show
one and the same pattern. Pure: no I/O, no translation; cells are any hashable codes.

Input: the unit tree (parent → visible children; the key None is the virtual root above the
roots) and per unit the *published* aggregate of the households registered in it directly
(merged, hidden units already rolled into the unit that absorbed them). A parent's figures are
the sums of its subtree. Rules, with K from the settings (`BOT_DISCLOSURE_K`):

a. Scope threshold: a unit's breakdown is shown only if at least K households answered (N)
   and at least K fail some criterion (F); else every cell of it is suppressed.
b. Primary suppression: a cell c is suppressed if c < K (zeros too) or c > F - K (it would
   say "(nearly) all of those who fail something fail this").
c. Complementary suppression, per parent P and cell code: the group is P's children where
   anybody answered, plus the households registered directly in P (a pseudo-child, always
   suppressed when there are any).
   If P's cell is shown and a group cell is suppressed, then at least two group cells are
   suppressed, they sum to at least K, and none of them is pinned by the bounds
   0 <= cell <= F of its unit (else "parent minus shown children" would still give it away);
   otherwise more child cells are suppressed, smallest first, and if even all of them do not
   suffice, P's cell is. If P's cell is suppressed but every group cell is shown, the
   smallest child cell is suppressed too. Repeated to a fixed point (suppression only grows).
d. N and F are published totals, never derived from suppressed cells.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

TOO_FEW_ANSWERED = "too_few_answered"
TOO_FEW_FAILING = "too_few_failing"
MIN_K = 3


@dataclass(frozen=True, slots=True)
class Aggregate:
    """Published raw figures of a unit: households that answered, that fail something, and per
    cell code the households that fail it."""

    respondents: int = 0
    failing: int = 0
    cells: Mapping[Any, int] = field(default_factory=dict)  # Any: Mapping keys are invariant

    def __add__(self, other: Aggregate) -> Aggregate:
        cells = dict(self.cells)
        for code, value in other.cells.items():
            cells[code] = cells.get(code, 0) + value
        return Aggregate(self.respondents + other.respondents, self.failing + other.failing,
                         cells)


@dataclass(frozen=True, slots=True)
class Shown:
    """What may be shown of one unit: its totals, and each cell's value or None (suppressed).

    `reason` is set when the unit fails the scope threshold (then every cell is None).
    """

    respondents: int
    failing: int
    reason: str | None
    cells: Mapping[Hashable, int | None]


@dataclass(frozen=True, slots=True)
class _Direct:
    """The pseudo-child of a parent: households registered in the parent itself."""

    parent: Hashable


def protect(*, children: Mapping[Any, Sequence[Hashable]],
            own: Mapping[Any, Aggregate], codes: Sequence[Hashable],
            k: int) -> dict[Hashable, Shown]:
    """The suppression pattern of the whole tree (every unit reachable from None)."""
    if k < MIN_K:
        raise ValueError(f"k must be at least {MIN_K}")
    order = _post_order(children)
    total: dict[Hashable, Aggregate] = {}
    for unit in order:
        found = own.get(unit, Aggregate())
        for child in children.get(unit, ()):
            found = found + total[child]
        total[unit] = found
    groups: dict[Hashable, list[Hashable]] = {}
    for unit in order:
        # A child where nobody answered is a known zero (N is shown): nothing to protect.
        members = [kid for kid in children.get(unit, ()) if total[kid].respondents > 0]
        direct = own.get(unit)
        if members and direct is not None and direct.respondents > 0:
            total[_Direct(unit)] = direct
            members.append(_Direct(unit))
        if members:
            groups[unit] = members
    reasons = {unit: _reason(total[unit], k) for unit in order}
    hidden: dict[Hashable, set[Hashable]] = {}
    for code in codes:
        hidden[code] = _suppress(code, total=total, groups=groups, reasons=reasons, k=k)
    return {unit: Shown(total[unit].respondents, total[unit].failing, reasons[unit],
                        {code: None if unit in hidden[code] else total[unit].cells.get(code, 0)
                         for code in codes})
            for unit in order}


def _post_order(children: Mapping[Hashable, Sequence[Hashable]]) -> list[Hashable]:
    """Units below None, children before their parent (None last); each unit once."""
    order: list[Hashable] = []
    seen: set[Hashable] = set()
    stack: list[tuple[Hashable, bool]] = [(None, False)]
    while stack:
        unit, done = stack.pop()
        if done:
            order.append(unit)
            continue
        if unit in seen:
            continue
        seen.add(unit)
        stack.append((unit, True))
        stack.extend((child, False) for child in children.get(unit, ()) if child not in seen)
    return order


def _reason(found: Aggregate, k: int) -> str | None:
    if found.respondents < k:
        return TOO_FEW_ANSWERED
    if found.failing < k:
        return TOO_FEW_FAILING
    return None


def _suppress(code: Hashable, *, total: Mapping[Hashable, Aggregate],
              groups: Mapping[Hashable, list[Hashable]],
              reasons: Mapping[Hashable, str | None], k: int) -> set[Hashable]:
    """The suppressed units for one cell code (primary, then complementary to a fixed point)."""

    def value(unit: Hashable) -> int:
        return total[unit].cells.get(code, 0)

    hidden = {unit for unit in reasons
              if reasons[unit] is not None or value(unit) < k
              or value(unit) > total[unit].failing - k}
    hidden.update(m for members in groups.values() for m in members if isinstance(m, _Direct))
    for _round in range(len(total) + 2):  # each round hides at least one more, or stops
        changed = False
        for parent, members in groups.items():
            secret = [m for m in members if m in hidden]
            if parent not in hidden:
                if not secret or _safe(secret, value=value, total=total, k=k):
                    continue
                open_ = sorted((m for m in members if m not in hidden),
                               key=lambda m: (value(m), str(m)))
                while open_ and not _safe(secret, value=value, total=total, k=k):
                    secret.append(open_.pop(0))
                    hidden.add(secret[-1])
                if not _safe(secret, value=value, total=total, k=k):
                    hidden.add(parent)
                changed = True
            elif not secret:
                hidden.add(min(members, key=lambda m: (value(m), str(m))))
                changed = True
        if not changed:
            return hidden
    raise AssertionError("suppression did not converge")  # pragma: no cover


def _safe(secret: Sequence[Hashable], *, value: Callable[[Hashable], int],
          total: Mapping[Hashable, Aggregate], k: int) -> bool:
    """Whether the suppressed cells of a group (whose parent is shown) protect each other.

    Their sum is known (parent minus shown children): it must be at least K, spread over at
    least two cells, and no cell may be pinned by the others' bounds 0 <= cell <= F.
    """
    if len(secret) < 2:
        return False
    values = [value(m) for m in secret]
    bounds = [total[m].failing for m in secret]
    whole = sum(values)
    if whole < k:
        return False
    room = sum(bounds)
    for bound in bounds:
        if bound == 0:
            continue  # nobody there fails anything: its zero says nothing about anyone
        low, high = max(0, whole - (room - bound)), min(bound, whole)
        if low >= high:
            return False
    return True

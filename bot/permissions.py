"""Who may do what, over which units: one mechanism for every command and every button press."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from storage import members, units
from storage.db import Database
from storage.members import Member
from storage.roles import RoleGrant
from storage.support import HANDLER_ROLE


class Role(StrEnum):
    """Roles in increasing power; a higher role can do what the lower ones can."""

    MEMBER = "member"
    CHAPTER_HEAD = "chapter_head"
    UNIT_ADMIN = "unit_admin"
    SUPER_ADMIN = "super_admin"


_RANK = {role: rank for rank, role in enumerate(Role)}


@dataclass(frozen=True, slots=True)
class Principal:
    """The person behind an update: her membership, roles and whether she is a super-admin."""

    user_id: int
    member: Member | None = None
    grants: tuple[RoleGrant, ...] = ()
    is_super_admin: bool = False
    handles: tuple[int, ...] = ()
    """Units where she is a request handler ("người tiếp nhận"): not a rank, so it gives none
    of the officers' powers (storage/support.py)."""
    roles: frozenset[Role] = field(init=False)

    def __post_init__(self) -> None:
        found = {Role(g.role) for g in self.grants}
        if self.member is not None:
            found.add(Role.MEMBER)
        if self.is_super_admin:
            found.add(Role.SUPER_ADMIN)
        object.__setattr__(self, "roles", frozenset(found))

    @property
    def highest(self) -> Role | None:
        """Her most powerful role (None for someone not registered and not an admin)."""
        return max(self.roles, key=_RANK.__getitem__, default=None)

    def at_least(self, role: Role) -> bool:
        """Whether she holds `role` or a more powerful one."""
        return any(_RANK[r] >= _RANK[role] for r in self.roles)


async def load_principal(db: Database, user_id: int, admin_ids: Iterable[int]) -> Principal:
    """Read the member and her grants for one Telegram user."""
    member, held = await members.with_roles(db, user_id)
    ranked = [(role, unit_id) for role, unit_id in held if role != HANDLER_ROLE]
    grants = (tuple(RoleGrant(member.id, role, unit_id) for role, unit_id in ranked)
              if member else ())
    return Principal(
        user_id=user_id, member=member, grants=grants, is_super_admin=user_id in admin_ids,
        handles=tuple(unit_id for role, unit_id in held if role == HANDLER_ROLE),
    )


async def may_act_on_unit(db: Database, principal: Principal, role: Role, unit_id: int) -> bool:
    """Whether she holds `role` (or more) over `unit_id`: her grant's unit is it or an ancestor.

    Chapter heads act on their own chapter (and its groups); unit admins on their subtree;
    super-admins everywhere.
    """
    if principal.is_super_admin:
        return True
    eligible = {g.unit_id for g in principal.grants if _RANK[Role(g.role)] >= _RANK[role]}
    if not eligible:
        return False
    return any(u.id in eligible for u in await units.ancestry(db, unit_id))


async def handles_requests_of(db: Database, principal: Principal, unit_id: int) -> bool:
    """Whether she is a request handler over `unit_id` (its ward or an ancestor)."""
    if not principal.handles:
        return False
    return any(u.id in principal.handles for u in await units.ancestry(db, unit_id))

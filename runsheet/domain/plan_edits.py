"""What an edit of the plan may not change while the ceremony runs.

The past stays as it happened: the items up to the live one (those already passed) keep
their place and order, an item already done (it was live at some point) stays in the
programme with its planned minutes and its order among the other done items, and the live
item stays. Everything still to come may change: minutes added, items inserted, removed or
reordered. The live item keeps its start and its timing because its record (its spans, what
the MC added, its hold) is kept by id. Plain Python, no framework imports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .ceremony import CeremonyState
from .plan import Plan


@dataclass(frozen=True)
class EditRefusal:
    """One change the running ceremony refuses: where (plan path), why (code and sentence)."""

    path: str
    code: str  # stable, for translation: plan.problem.<code> in the message catalogs
    message: str  # in English
    params: dict[str, Any] = field(default_factory=dict)


def live_edit_refusals(old: Plan, new: Plan, state: CeremonyState) -> list[EditRefusal]:
    """Return every way ``new`` would rewrite what ``state`` records of ``old``'s ceremony."""
    refusals: list[EditRefusal] = []
    if new.event.slug != old.event.slug:
        refusals.append(
            EditRefusal(
                "event.slug",
                "slug_changed",
                f"is the event's id and cannot change here (it is {old.event.slug!r}); "
                "create a new event instead",
                {"slug": old.event.slug},
            )
        )
    current = state.current_item_id
    done = [item.id for item in old.agenda if state.spans.get(item.id) and item.id != current]
    new_ids = [item.id for item in new.agenda]
    present = set(new_ids)
    if current is not None and current not in present:
        refusals.append(
            EditRefusal(
                "agenda",
                "live_item_removed",
                f"leaves out the live item {current!r}; it can be changed but not removed",
                {"item": current},
            )
        )
    for item_id in done:
        if item_id not in present:
            refusals.append(
                EditRefusal(
                    "agenda",
                    "done_item_removed",
                    f"leaves out the item {item_id!r}, which is already done",
                    {"item": item_id},
                )
            )
    refusals += _past_reordered(old, new_ids, state)
    refusals += _done_reordered(old, new_ids, done, current)
    for index, item in enumerate(new.agenda):
        before = old.item(item.id)
        if item.id in done and before.planned_minutes != item.planned_minutes:
            refusals.append(
                EditRefusal(
                    f"agenda[{index}].planned_minutes",
                    "done_item_minutes",
                    f"cannot change for an item already done (it was {before.planned_minutes})",
                    {"minutes": before.planned_minutes},
                )
            )
    return refusals


def _passed(plan: Plan, state: CeremonyState) -> list[str]:
    """Return the ids of the items already passed: up to the live one, or all once finished."""
    ids = [item.id for item in plan.agenda]
    if state.phase == "finished":
        return ids
    if state.phase == "live" and state.current_item_id in ids:
        return ids[: ids.index(state.current_item_id) + 1]
    return []


def _past_reordered(old: Plan, new_ids: list[str], state: CeremonyState) -> list[EditRefusal]:
    passed = _passed(old, state)
    for index, expected in enumerate(passed):
        found = new_ids[index] if index < len(new_ids) else None
        if found != expected:
            if found is None or found not in passed:
                message = (
                    f"must be the item {expected!r}: the items up to the live one are already "
                    "passed, so nothing can be inserted or removed before it"
                )
            else:
                message = (
                    f"must be the item {expected!r}, not {found!r}: the items up to the live "
                    "one are already passed and keep their order"
                )
            path = f"agenda[{min(index, max(len(new_ids) - 1, 0))}].id"
            return [EditRefusal(path, "passed_item_moved", message, {"item": expected})]
    return []


def _done_reordered(
    old: Plan, new_ids: list[str], done: list[str], current: str | None
) -> list[EditRefusal]:
    kept = {*done, *([current] if current else [])}
    before = [item.id for item in old.agenda if item.id in kept]
    after = [item_id for item_id in new_ids if item_id in kept]
    if len(after) != len(before) or after == before:
        return []  # a removal is reported on its own
    for was, now in zip(before, after, strict=True):
        if was != now:
            index = new_ids.index(now)
            message = (
                f"moves the item {now!r} (done or live) before {was!r}; items already done "
                "keep their order"
            )
            return [EditRefusal(f"agenda[{index}].id", "done_item_moved", message, {"item": now})]
    return []

"""The serving process's garbage collector policy: freeze often, collect everything rarely."""

from __future__ import annotations

import gc
import threading
import time
import weakref

import pytest

from runsheet.transports.collector import Collector


class ThreadServer:
    """What the collector needs of the Socket.IO server, with plain threads."""

    def start_background_task(self, target) -> threading.Thread:  # noqa: ANN001
        thread = threading.Thread(target=target, daemon=True)
        thread.start()
        return thread

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class Node:
    """An object that can sit in a reference cycle."""

    def __init__(self) -> None:
        self.other: Node | None = None


def frozen_cycle() -> weakref.ref:
    """Make a two-object cycle, freeze it, drop it: return a weak reference to one end."""
    first, second = Node(), Node()
    first.other, second.other = second, first
    gc.freeze()
    return weakref.ref(first)


@pytest.fixture
def collector():  # noqa: ANN201
    made: list[Collector] = []

    def make(**options) -> Collector:
        made.append(Collector(ThreadServer(), **options))
        return made[-1]

    yield make
    for each in made:
        each.stop()
    gc.unfreeze()


def test_starting_freezes_what_the_process_holds_and_stopping_hands_it_back(collector):
    quiet = collector(freeze_seconds=60)
    quiet.start()
    assert gc.get_freeze_count() > 0
    quiet.stop()
    assert gc.get_freeze_count() == 0


def test_a_cycle_that_was_frozen_is_freed_by_the_full_pass_not_before(collector):
    quiet = collector(freeze_seconds=60)
    end = frozen_cycle()
    gc.collect()
    assert end() is not None  # frozen: the automatic collections do not see it

    assert quiet.full_pass() >= 2
    assert end() is None
    assert gc.get_freeze_count() > 0  # what is alive is frozen again


def tracked(thing: object) -> bool:
    """Say whether the automatic collections walk ``thing`` (frozen objects they do not)."""
    return any(each is thing for each in gc.get_objects())


def test_the_task_freezes_new_objects_and_makes_a_full_pass_when_its_time_comes(collector):
    busy = collector(freeze_seconds=0.02, full_pass_seconds=0.3)
    busy.start()
    end = frozen_cycle()
    kept = Node()  # made after the start
    assert tracked(kept)

    deadline = time.monotonic() + 10
    while tracked(kept) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not tracked(kept)  # frozen at the next beat

    while busy.full_passes == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert busy.full_passes >= 1
    assert end() is None  # the frozen cycle is freed by the full pass
    assert kept.other is None  # what is alive stays

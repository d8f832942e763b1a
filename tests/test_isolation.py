"""run_isolated: every item gets one outcome, whatever a worker does to itself."""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import time

import pytest

from survey.isolation import Failure, run_isolated

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux behaviour")

# Items are ints; these values make the worker misbehave. Top-level so they pickle.
ABORT, SEGFAULT, HANG, GREEDY, RAISES, SIGKILLED = -1, -2, -3, -4, -5, -6


def behave(item: int) -> int:
    if item == ABORT:
        os.abort()
    if item == SEGFAULT:
        ctypes.string_at(0)
    if item == HANG:
        time.sleep(600)
    if item == GREEDY:
        return len(bytearray(800 * 1024 * 1024))
    if item == RAISES:
        raise ValueError("no questionnaire sheet")
    if item == SIGKILLED:
        os.kill(os.getpid(), signal.SIGKILL)
    return item * item


def with_pid(item: float) -> tuple[float, int]:
    time.sleep(item)
    return item, os.getpid()


def identity(item: int) -> int:
    return item


def unpicklable_result(item: int) -> object:
    return (lambda: item) if item == 3 else item


def _run(items, **kwargs) -> dict[int, object]:
    out: dict[int, object] = {}
    for index, value in run_isolated(behave, items, workers=2, **kwargs):
        assert index not in out, f"index {index} yielded twice"
        out[index] = value
    assert sorted(out) == list(range(len(items))), "every index exactly once"
    return out


def _assert_good(items, out) -> None:
    for index, item in enumerate(items):
        if item >= 0:
            assert out[index] == item * item, (index, out[index])


def test_results_and_progress_for_every_item():
    items = list(range(300))
    seen: list[int] = []
    out = dict(run_isolated(behave, items, workers=2, progress=seen.append))
    assert out == {i: i * i for i in items}
    assert seen == list(range(1, 301))


def test_empty_items_yield_nothing():
    assert list(run_isolated(behave, [])) == []


def test_native_crashes_cost_only_their_item():
    items = list(range(40)) + [ABORT] + list(range(40, 80)) + [SEGFAULT] + list(range(80, 120))
    out = _run(items)
    assert out[40] == Failure("the reader crashed on this file")
    assert out[81] == Failure("the reader crashed on this file")
    _assert_good(items, out)


def test_hang_is_stopped_after_the_time_limit():
    items = [1, 2, HANG, 3, 4, 5, 6]
    started = time.monotonic()
    out = _run(items, time_limit=1)
    elapsed = time.monotonic() - started
    assert out[2] == Failure("took longer than 1 s to read")
    _assert_good(items, out)
    assert elapsed < 5, elapsed


def test_a_slow_caller_does_not_make_items_time_out():
    # Results wait in the pipe while the caller is busy; their items must not count as hung.
    out = {}
    for count, (index, value) in enumerate(run_isolated(with_pid, [0.002] * 200, workers=1,
                                                        time_limit=0.3)):
        out[index] = value
        if count in (1, 60):
            time.sleep(0.4)
    assert not [v for v in out.values() if isinstance(v, Failure)]
    assert sorted(out) == list(range(200))


@linux_only
def test_memory_blowup_is_a_failure():
    items = [1, 2, GREEDY, 3, 4]
    out = _run(items, memory_limit_mb=200)
    assert out[2] == Failure("needs more memory than a form can (over 200 MB)")
    _assert_good(items, out)


@linux_only
def test_worker_killed_by_the_system_is_a_memory_failure():
    items = [1, SIGKILLED, 2]
    out = _run(items)
    assert out[1] == Failure("needs more memory than a form can (over 1024 MB)")
    _assert_good(items, out)


def test_exception_becomes_failure_with_type_and_message():
    items = [1, RAISES, 2]
    out = _run(items)
    assert out[1] == Failure("could not be read (ValueError: no questionnaire sheet)")
    _assert_good(items, out)


def test_unpicklable_result_and_item_fail_alone():
    out = dict(run_isolated(unpicklable_result, [1, 2, 3, 4], workers=2))
    assert isinstance(out[2], Failure) and out[2].reason.startswith("could not be read (")
    assert [out[0], out[1], out[3]] == [1, 2, 4]
    out = dict(run_isolated(identity, [1, lambda: 0, 3], workers=1))
    assert isinstance(out[1], Failure)
    assert (out[0], out[2]) == (1, 3)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_early_stop_leaves_no_process_behind():
    # One worker hangs while the caller stops: it must be killed, not waited for.
    items = [0.0] * 20 + [600.0] + [0.01] * 200
    pids: set[int] = set()
    run = run_isolated(with_pid, items, workers=2, time_limit=60)
    for count, (_, value) in enumerate(run):
        pids.add(value[1])
        if count == 30:
            break
    started = time.monotonic()
    run.close()
    assert time.monotonic() - started < 5
    assert pids and all(_gone(pid) for pid in pids), "workers are reaped, not zombies"
    assert multiprocessing.active_children() == []


def test_keyboard_interrupt_stops_every_worker():
    def interrupt(done: int) -> None:
        if done == 5:
            raise KeyboardInterrupt

    pids: set[int] = set()
    with pytest.raises(KeyboardInterrupt):
        for _, value in run_isolated(with_pid, [0.01] * 100, workers=2, progress=interrupt):
            pids.add(value[1])
    assert pids and all(_gone(pid) for pid in pids)
    assert multiprocessing.active_children() == []


def test_spawn_start_method_works_too():
    items = [1, ABORT, 2, RAISES, 3]
    out = dict(run_isolated(behave, items, workers=2, start_method="spawn"))
    assert out[1] == Failure("the reader crashed on this file")
    assert isinstance(out[3], Failure)
    assert (out[0], out[2], out[4]) == (1, 4, 9)


def test_small_items_are_fast():
    # Batching keeps the cost per item low: the forms run needs > 5,000 items/s on 2 cores.
    items = list(range(30_000))
    started = time.perf_counter()
    out = dict(run_isolated(identity, items, workers=2))
    rate = len(items) / (time.perf_counter() - started)
    assert len(out) == len(items) and out[29_999] == 29_999
    assert rate > 5_000, f"{rate:.0f} items/s"

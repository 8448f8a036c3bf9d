"""The worker hands free heap pages back to the system once after work, and not while idle."""

from __future__ import annotations

import platform

from streams.agents.runtime.heap_trim import HeapTrim, malloc_trim


def test_the_heap_is_trimmed_once_after_work_and_never_while_idle() -> None:
    calls: list[int] = []
    trim = HeapTrim(lambda: calls.append(1))
    trim.tick(0)
    assert calls == []  # idle since start
    trim.tick(2)  # two records processed since
    trim.tick(2)
    assert calls == [1]
    trim.tick(3)
    assert trim.trims == len(calls) == 2


def test_without_malloc_trim_the_worker_does_nothing() -> None:
    trim = HeapTrim(None)
    trim.tick(1)
    assert trim.trims == 0


def test_the_c_library_of_a_debian_worker_has_malloc_trim() -> None:
    if platform.libc_ver()[0] != "glibc":  # musl and macOS have none: the worker does nothing then
        return
    trim = malloc_trim()
    assert trim is not None
    assert trim() in (0, 1)  # 1: memory was released, 0: there was none to release

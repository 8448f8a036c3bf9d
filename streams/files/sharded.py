"""`replay --jobs N`: the persons' stages in N processes, sharded by person; the rest in this one.

The pipeline is `Monitor`'s, split where persons meet (docs/operations.md, Replay in parallel):
- a shard decodes its lines and runs `Monitor.person_side` (the door, pseudonymising, the person's fold
  and rules, the person's programme ledger) for the persons it holds: nothing there reads another person;
- this process runs the stream's clock over every line's `occurred_at` in file order (the same
  `StreamClock` as `replay`), so each event's arrival, and with it its lateness, is the one the whole file
  gives it before any shard judges it; and then `Monitor.unit_side` (units, organisation, flags recorded,
  rejections written) for every event in the order a single process takes them.
So every output is that of one process, byte for byte. Lines go to their shard in batches, two messages
in flight: a shard decodes a batch ahead, so it is not idle while this process runs the clock, reads the
next lines and takes the units and organisation of the batch before.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import gc
import multiprocessing as mp
import queue
import re
import sys
import threading
import time
import zlib
from collections import deque
from collections.abc import Iterator
from multiprocessing.connection import Connection
from multiprocessing.context import ForkContext, ForkServerContext
from operator import attrgetter
from pathlib import Path
from typing import IO, Any

import msgspec

from streams.core.decode import decode_event
from streams.core.monitor import Monitor, PersonSide
from streams.core.stages import UnitUpdate
from streams.core.stream_clock import StreamClock
from streams.core.timebase import epoch
from streams.files.lines import InputEndedEarly, numbered_lines
from streams.models.events import Event
from streams.models.rejections import Rejection
from streams.progress import Progress

BATCH = 2000  # lines a shard takes at a time: enough to pay for a round trip, few to keep the cores busy
_KEY = b'"person_id"'
_VALUE = re.compile(rb'[ \t\r\n]*:[ \t\r\n]*"([^"]*)"')

Line = tuple[int, bytes, str]  # (index in the file's order, line, source offset)
Decoded = Rejection | tuple[int, str]  # a shard's verdict on a line: a rejection, or (occurred, event_id)


def shard_of(line: bytes, index: int, shards: int, now: dt.datetime, monitor: Monitor) -> int:
    """The shard of a line: that of its person_id, so that all of a person's events meet in one shard;
    a line without one (a staffing report, a line that will be rejected) anywhere. The person_id is read
    off the bytes when that is exact (no escape, one key, outside any string); otherwise the line is decoded
    as the shard will decode it."""
    at = line.find(_KEY)
    if b"\\" not in line:  # no escape: the key is spelt as it is read, and every quote delimits a string
        if at < 0:
            return index % shards
        if line.find(_KEY, at + len(_KEY)) < 0 and not line.count(b'"', 0, at) % 2:
            value = _VALUE.match(line, at + len(_KEY))
            if value is not None:
                return zlib.crc32(value.group(1)) % shards
    config = monitor.config
    event = decode_event(line, now, max_bytes=config.max_message_bytes, max_future=monitor.admit.max_future)
    person_id = getattr(event, "person_id", None)
    if not isinstance(person_id, str):
        return index % shards
    return zlib.crc32(person_id.encode("utf-8", "surrogatepass")) % shards


#: The fields in the order a wired tuple holds them: taken from the classes, so that a field added to
#: either travels too (one left out shifted the next into its place: a survey answer's times were lost).
_SIDE_FIELDS = tuple(f.name for f in dataclasses.fields(PersonSide))
_UPDATE_FIELDS = tuple(f.name for f in dataclasses.fields(UnitUpdate))


_side_values, _update_values = attrgetter(*_SIDE_FIELDS), attrgetter(*_UPDATE_FIELDS)
_UPDATES_AT = _SIDE_FIELDS.index("unit_updates")

_updates_encoder = msgspec.msgpack.Encoder()
_updates_decoder = msgspec.msgpack.Decoder(list[list[UnitUpdate]])

#: A batch's person sides: every side's unit updates as msgpack (decoded in C, straight into
#: `UnitUpdate`s), and the few sides that hold more (a rejection, flags, a staffing report, a survey
#: answer, a new ledger) whole, as tuples by their place in the batch.
Sides = tuple[bytes, dict[int, tuple]]  # type: ignore[type-arg]


#: Every field of a side but its unit updates, from the class (a field added later is compared too).
_rest_values = attrgetter(*(name for name in _SIDE_FIELDS if name != "unit_updates"))
_PLAIN_REST = _rest_values(PersonSide())


def _plain(side: PersonSide) -> bool:
    """Whether a side holds nothing but its unit updates (most do)."""
    return bool(_rest_values(side) == _PLAIN_REST)


def _wire(sides: list[PersonSide]) -> Sides:
    """A batch's sides for the pipe (`Sides`). Pickled dataclasses cost several times as much to load, and
    pickled tuples made the main process build every container again in Python."""
    whole = {}
    updates: list[list[UnitUpdate]] = []
    for at, side in enumerate(sides):
        if _plain(side):
            updates.append(side.unit_updates)
            continue
        wire = list(_side_values(side))
        wire[_UPDATES_AT] = [_update_values(u) for u in side.unit_updates]
        whole[at] = tuple(wire)
        updates.append([])
    return _updates_encoder.encode(updates), whole


def _unwire(wired: Sides) -> deque[PersonSide]:
    updates, whole = wired
    sides: deque[PersonSide] = deque()
    gc.disable()  # as in `_received`: thousands of small containers at once
    try:
        decoded = _updates_decoder.decode(updates)
    finally:
        gc.enable()
    for at, unit_updates in enumerate(decoded):
        wire = whole.get(at)
        if wire is None:
            sides.append(PersonSide(unit_updates=unit_updates))
            continue
        side = PersonSide(*wire)
        side.unit_updates = [UnitUpdate(*u) for u in side.unit_updates]  # type: ignore[arg-type, misc]
        sides.append(side)
    return sides


def _received(conn: Connection) -> Any:
    """A message, unpickled with the collector paused: a batch is thousands of small containers, each
    of which would count towards a collection of the whole heap."""
    gc.disable()
    try:
        return conn.recv()
    finally:
        gc.enable()


def _shard(conn: Connection, monitor: Monitor, now: dt.datetime, inherited: list[Connection]) -> None:
    """One shard's process: decode its lines, and take the events the clock releases through the person
    stage, each at the arrival the clock gave it. `inherited`: the main process's ends of the pipes, which
    a forked shard holds copies of; closed, so that a shard sees its pipe end when the main process dies."""
    for end in inherited:
        end.close()
    gc.freeze()  # what a forked shard inherited: never garbage, never to be scanned again
    held: dict[int, tuple[Event, str, int]] = {}
    while True:
        message = _received(conn)
        if message is None:
            conn.send((monitor.tally, monitor.ledgers, monitor.person_indicators()))
            return
        released, lines = message
        sides = []
        for index, arrival in released:
            event, offset, occurred = held.pop(index)
            sides.append(monitor.person_side(event, arrival, offset, occurred))
        decoded: list[tuple[int, Decoded]] = []
        for index, raw, offset in lines:
            verdict = monitor.admit.decode(raw, now, offset, monitor.counts)
            if isinstance(verdict, Rejection):
                decoded.append((index, verdict))
                continue
            occurred = epoch(verdict.occurred_at)
            held[index] = (verdict, offset, occurred)
            decoded.append((index, (occurred, verdict.event_id)))
        conn.send((_wire(sides), decoded))


class _Round:
    """One batch in the main process: the events its lines released, per shard, and its results in the
    order a single process makes them: a rejection at decoding, or a released event's (shard, index),
    whose person side the shard sends back with the next batch."""

    def __init__(self, shards: int) -> None:
        self.released: list[list[tuple[int, int]]] = [[] for _ in range(shards)]
        self.results: list[Rejection | tuple[int, int]] = []


def _shard_context() -> ForkContext | ForkServerContext:
    """How shards start. Forked from this process when it runs nothing but this thread: a shard then has
    the program and its warmed caches at no cost (with `spawn`, each shard imported the program again and
    warmed its own: ~0.8 s of CPU a shard, most of the gap to two cores' worth). A fork is only safe where
    no other thread can hold a lock at that moment, so a process with threads (a program that embeds
    `replay_sharded`) starts its shards from a server process that imported the program once."""
    if "fork" in mp.get_all_start_methods() and threading.active_count() == 1:
        return mp.get_context("fork")
    context = mp.get_context("forkserver")
    context.set_forkserver_preload(["streams.cli", __name__])  # a new process re-runs the main module
    return context


def replay_sharded(monitor: Monitor, path: Path, jobs: int, *, rejects: IO[str] | None = None,
                   progress: Progress | None = None
                   ) -> tuple[float, list[dict[str, object]], InputEndedEarly | None]:
    """`replay` over `jobs` shards: elapsed seconds, the persons' indicators, and whether the file ended
    early. `monitor` ends as `replay` leaves it, except that its persons stay in the shards."""
    # What exists before the replay (the program, its caches, the monitor's configuration) is left out of
    # the collector's scans while it runs, here and in the forked shards: most of what they allocate is
    # thousands of short-lived containers a batch, and each collection of the old objects walked all of it.
    freeze = gc.get_freeze_count() == 0  # a caller's own freeze is left as it is
    if freeze:
        gc.freeze()
    try:
        return _replay_sharded(monitor, path, jobs, rejects, progress)
    finally:
        if freeze:
            gc.unfreeze()


def _replay_sharded(monitor: Monitor, path: Path, jobs: int, rejects: IO[str] | None, progress: Progress | None
                    ) -> tuple[float, list[dict[str, object]], InputEndedEarly | None]:
    now = dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    context = _shard_context()
    forked = context.get_start_method() == "fork"
    pipes: list[Connection] = []
    processes = []
    for stream in (sys.stdout, sys.stderr):  # a forked shard would write out a copy of what waits in them
        if stream is not None:
            with contextlib.suppress(OSError, ValueError):  # closed: nothing waits
                stream.flush()
    for _ in range(jobs):
        mine, theirs = context.Pipe()
        pipes.append(mine)
        persons_monitor = Monitor(monitor.config, monitor.admit.pseudonymise, keep_ledgers=monitor.keep_ledgers)
        process = context.Process(target=_shard, args=(theirs, persons_monitor, now, pipes if forked else []),
                                  daemon=True)
        process.start()
        theirs.close()
        processes.append(process)
    clock: StreamClock[tuple[int, int]] = StreamClock(monitor.config.max_ahead_s)
    offsets: dict[int, str] = {}
    ledger_order: list[str] = []
    persons: list[dict[str, object]] = []
    lines = _batches(path, monitor, jobs, now, offsets)
    senders = [_Sender(pipe) for pipe in pipes]
    rounds: dict[int, _Round] = {}
    orders: dict[int, list[int]] = {}  # batch k's shards, line by line
    ended_early = None
    end: int | None = None  # the first batch with no lines: the input ended before it

    def send(k: int, released: _Round) -> None:
        """Message k: the events round k-2 released, and batch k's lines (the shards decode a batch
        ahead, so that they never wait for this process's clock)."""
        nonlocal ended_early, end
        batch, orders[k], ended = next(lines)
        ended_early = ended_early or ended
        if end is None and not any(batch):
            end = k
        for shard, sender in enumerate(senders):
            sender.put((released.released[shard], batch[shard]))

    try:
        send(0, _Round(jobs))
        send(1, _Round(jobs))
        k = 0
        while True:
            # The reply to message k: round k-2's person sides and batch k's verdicts.
            replies = [_received(pipe) for pipe in pipes]
            current = rounds[k] = _Round(jobs)
            verdicts = [iter(reply[1]) for reply in replies]
            for shard in orders.pop(k):  # the batch's lines in the file's order, by the shard each went to
                index, verdict = next(verdicts[shard])
                monitor.tally.read += 1
                if isinstance(verdict, Rejection):
                    current.results.append(verdict)
                    del offsets[index]
                    continue
                occurred, event_id = verdict
                for (i, s), arrival in clock.offer(occurred, (index, shard), event_id):
                    current.released[s].append((i, arrival))
                    current.results.append((s, i))
            if k == end:  # the end of the input: what the clock still holds is released
                for (i, s), arrival in clock.drain():
                    current.released[s].append((i, arrival))
                    current.results.append((s, i))
            if progress is not None:
                progress.tick(monitor.tally.read)
            if end is None or k <= end:
                send(k + 2, current)
            if k >= 2:  # while the shards take the next messages
                _results(monitor, rounds.pop(k - 2), [_unwire(reply[0]) for reply in replies], offsets,
                         ledger_order, rejects)
            if end is not None and k == end + 2:  # that reply brought the last round's sides
                break
            k += 1
        for sender in senders:
            sender.put(None)
            sender.join()
        merged = {}
        for pipe in pipes:
            tally, ledgers, mine = pipe.recv()
            monitor.tally.add(tally)
            merged.update(ledgers)
            persons += mine
        monitor.ledgers = {key: merged[key] for key in ledger_order}
    except BaseException:
        # Failing: the shards are stopped at once. A shard may be blocked writing its reply, and a
        # sender thread writing it the next message, neither of which closing this end would wake.
        for process in processes:
            process.kill()
        for sender in senders:  # each ends at its next write, now refused
            sender.put(None)
            sender.thread.join(timeout=10)
        raise
    finally:
        for pipe in pipes:
            pipe.close()
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
    elapsed = time.perf_counter() - started
    if progress is not None:
        progress.done(monitor.tally.read)
    return elapsed, persons, ended_early


def _results(monitor: Monitor, done: _Round, sides: list[deque[PersonSide]],
             offsets: dict[int, str],
             ledger_order: list[str], rejects: IO[str] | None) -> None:
    """A round's results in order: each released event's person side through the unit stage."""
    for result in done.results:
        if isinstance(result, Rejection):
            rejection: Rejection | None = result
        else:
            shard, index = result
            side = sides[shard].popleft()
            if side.new_ledger is not None:
                ledger_order.append(side.new_ledger)
            rejection = monitor.unit_side(side, offsets.pop(index)).rejection
        if rejection is not None and rejects is not None:
            rejects.write(rejection.model_dump_json() + "\n")


class _Sender:
    """Sends a shard its messages from a thread of its own, so that this process can read the shard's
    replies while a message is still going out: with two messages in flight, a shard may be writing a
    reply while this process writes it the next message, and each write can wait for the other side."""

    def __init__(self, pipe: Connection) -> None:
        self.pipe = pipe
        self.queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def put(self, message: object) -> None:
        self.queue.put(message)

    def _run(self) -> None:
        while True:
            message = self.queue.get()
            try:
                self.pipe.send(message)
            except OSError:  # the shard is gone: its replies say why (or stop coming)
                return
            if message is None:
                return

    def join(self) -> None:
        self.thread.join()


def _batches(path: Path, monitor: Monitor, shards: int, now: dt.datetime, offsets: dict[int, str]
             ) -> Iterator[tuple[list[list[Line]], list[int], InputEndedEarly | None]]:
    """The file's lines in batches, each split by shard, with the shard of each line in the file's order;
    empty ones after the last."""
    index = 0
    numbered = numbered_lines(path)
    more = True
    while more:
        batch: list[list[Line]] = [[] for _ in range(shards)]
        order: list[int] = []
        ended = None
        try:
            for lineno, line in numbered:
                offset = offsets[index] = f"{path.name}:{lineno}"
                shard = shard_of(line, index, shards, now, monitor)
                batch[shard].append((index, line, offset))
                order.append(shard)
                index += 1
                if index % BATCH == 0:
                    break
            else:
                more = False
        except InputEndedEarly as exc:
            ended, more = exc, False
        yield batch, order, ended
    while True:
        yield [[] for _ in range(shards)], [], None

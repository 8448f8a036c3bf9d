"""The closing notes of BENCHMARKS.md: what the profiler showed and what was done about it, round by
round, and the targets not met with the reasons (prose, kept by hand; the report ends with it)."""

PROFILE_NOTES = """## What the profiler showed, and what was done

Replay (cProfile over 100k events) and the live worker (py-spy over 12 s while draining a backlog):

1. **Faust's per-message machinery in the worker** (conductor, stream iteration, producer, asyncio
   scheduling): with one Kafka message per event on each internal hop, every input event became three
   to four messages plus changelog writes, and the worker drained ~1.1k events/s. Done: the internal
   topics carry batches (one message per destination partition per batch of the sending agent,
   addressed to the partition the keys hash to, so table ownership is unchanged), and faust's producer
   buffer limit was raised so a batch's table writes no longer hold every incoming message (faust
   logged a warning per batch). The worker went from ~1.1k to ~4k events/s on the same stream.
   Latency: faust builds its Kafka consumer with a fixed 1.5 s fetch wait, so a partition left out of
   the fetch under way waited up to that long at each of the four hops (p50 ~3.3 s at 1,000 events/s);
   the worker's consumer now waits at most 100 ms. What remained was CPU: a unit's state holds every
   person it counts, and the units agent wrote each touched unit every 50 ms; it now works in batches
   of up to 0.5 s (unit figures and weekly drift a little later, person flags unaffected): p99 at
   1,000 events/s for 60 s went 3.8 s -> 1.8 s -> 0.5 s.
2. **JSON and pydantic (de)serialisation** in the worker: table values (person, unit and organisation
   states as JSON) and internal messages (validate and dump) are now the largest share of the worker's
   time (~25%). Done earlier: a per-process cache of decoded states used while the table still holds
   the bytes this worker wrote. Not done: a binary codec (orjson/msgpack, a new dependency) and not
   re-validating an event the door already validated; each would take a few percent.
3. **The monitor's own per-event work in replay** (~56 µs/event of CPU at 58ec202, ~43 µs now, at
   1x; a bare `json.loads` is ~2.6 µs). Done earlier: an in-order fast path (one fold step per event instead of
   replaying the pending suffix; ~2.5x); the fold cache keeps only the current fold. The replay
   target, 2026-12-01 (same results: sample golden, unit tests, and a simulated replay of 136k events
   compared record by record, flags, rejections, person, unit and organisation states): each rule says
   which event kinds it looks at (a home-care contact, over 90% of the simulated stream, visited all four
   rules in each of its ~3 fold steps: in order, when it settles, when a late contact refolds the
   tail); the care-population bookkeeping updates its dict in place instead of rebuilding it per step;
   a unit's presence update that does not move its clock no longer walks the settling code; the
   personnummer pre-check over the raw bytes is two substring searches instead of a regex; decode
   compares `occurred_at` with its bounds as one timestamp (every comparison of aware datetimes asked
   pydantic's tzinfo for its offset again); a step taken again (settling, a refold's unchanged prefix)
   sums no contributions only to drop them. 21.3x -> 16.4x at 1x, 25.4x -> 18.0x at 8x (section 1).
   Where the time goes now (py-spy, 136k events): person stage ~40% (the fold step ~3 µs for a
   home-care contact, taken ~2.9 times per event: once in order, once when the fact settles into the
   checkpoint, and ~0.9 more on average because ~10% of contacts arrive up to a day late and refold
   the person's 7-day tail), decode ~15% (pydantic `validate_json` alone ~1.5x `json.loads`), unit
   stage ~12%, the rest spread over the pipeline's small objects (results, updates, facts).
   2026-12-05: the tracker keeps the fold after each pending fact (folds are values: a step replaces
   what it changes, so a kept fold is never changed), so settling takes a kept fold as the checkpoint
   and a late fact folds from the kept fold before it: fold steps per event 2.83 -> 1.20 on the
   simulated year, 3.34 -> 1.61 with late arrivals, retractions and conflicting duplicates
   (`python -m benchmarks.fold_steps`), outputs byte-identical; replay 15.8-16.1x -> 15.0-15.3x a bare
   parse (quiet machine, alternating). The kept folds cost ~400 B each in a decoded state.

4. **Pauses of the cyclic garbage collector, and memory held per person** (2026-12-01, the latency
   and memory targets). `gc.callbacks` on the worker at 1,000 events/s showed a full collection every
   ~2.5 s, each pausing the event loop 50-300 ms (growing with the heap) and finding ~17,000 objects:
   every batch's outputs (flags, outbox texts) were tied into a reference cycle by a metric closure that
   held `MetricCounts` (outputs -> counts -> closure -> MetricCounts -> outputs), so they were freed
   only by the collector. Done: the closure holds locals only (a unit test holds that a batch's outputs
   and the core's states need no collector); the worker freezes its start-up objects (`gc.freeze()`)
   and collects the young generation every 50,000 allocations instead of 700 (`agents/runtime/gc_tuning.py`).
   p99 event->flag over 60 s went 1.06-2.2 s -> 0.55-0.83 s in the same setting (p50 0.23-0.51 s ->
   0.16-0.21 s). Memory: tracemalloc on a worker draining 100,000 persons showed the pseudonymiser's
   cache (up to 200,000 source ids with their pseudonyms, ~170 B a person), ~225,000 fetched records
   held while a backlog waited (faust hands over everything fetched; 1 MiB fetched ahead per partition,
   ~40 partitions) and the 20,000 decoded person states. Done: 10,000 cached pseudonyms, 256 KiB
   fetched ahead per partition and at most 2,000 records a poll, 5,000 decoded person states by
   default. Worker memory per person at 100,000 persons, one run each before the change (b0a2ce0)
   and after, on an idle machine: 1,554 B and 1,183-1,374 B; but it varies by ~±200 B from run to run,
   and the three runs of section 4 (1,298-1,713 B, median 1,538 B) do not show the change clearly.
   Replay was not changed by this work: the tree of 04:20 (900f190), measured again beside this one on
   the same machine, gives 21.8x at 1x where it gave 16.4x then; this tree gives 18.9x (the machine is
   slower today, and section 1 of this run says 19.5x and 22.4x).
5. **Memory a drained backlog leaves behind** (2026-12-01, afternoon). `/proc/PID/smaps` and
   `sys._debugmallocstats()` of a worker after draining 100,000 persons: of ~1.1 KB of resident memory
   per person, ~0.5 KB are live objects, ~0.45 KB empty 16-KiB pools of CPython's allocator (2,676-2,955
   of them in 142-148 arenas: an arena goes back to the system only when all its pools are empty) and
   the rest glibc's heap. Done: free glibc heap pages are handed back after work (`malloc_trim(0)`,
   `agents/runtime/heap_trim.py`, 1-3 ms every 10 s while batches run): 1,632 / 1,696 / 2,018 B per person ->
   1,140 / 1,207 / 1,234 B (three runs each, alternating, same tree). A unit keeps one string per person
   for its two per-person dicts and their (sequence, day) as one int (decoded unit state 232 -> 155 B per
   person live, 207 -> 124 B restored; tracemalloc), and a person's stored state leaves out default
   fields (person state 4: a one-event state 186 -> 142 B); neither shows clearly in resident memory,
   which varies by ~±100 B from run to run. Tried and dropped: `PYTHONMALLOC=malloc` (1,059 and 1,283
   B), a stream buffer of 1,000 instead of 4,096 (1,141 B; the empty pools stayed). The latency runs
   now publish from a fresh process: in this one, after the replay runs, the collector's pauses held
   the publisher back (p99 1.7 and 4.1 s in a `make bench` where the same tree gave 0.61-0.93 s alone).
   Latency on this machine this afternoon varies more than any change of this round: four 60-s runs
   alternating the morning's tree (1add71b) and this one gave p99 0.75 and 1.68 s (1add71b) and 0.80 and
   1.26 s (this tree); section 3 of this run says 1.0 and 2.5 s, where the morning's `make bench` gave
   0.55 and 0.56 s. The target is met in some runs and not in others: not met.
6. **What a unit's bookkeeping and the benchmark's own publisher cost** (2026-12-01, evening; this
   machine was slower than in the morning: a bare loop of 10 million additions took 1.05 s of CPU).
   Memory at 100,000 persons (`worker_memory_run`, the figure of section 4), alternating runs of the
   same tree: the unchanged tree gave 949-1,304 B per person over eight runs. With a unit keeping no
   per-person entries at all (an experiment, not a product: re-sends and the care population need
   them) it gave 809 and 878 B, where the unchanged tree gave 984 and 1,304 B in the runs beside them;
   a unit's per-person bookkeeping costs ~0.2-0.4 KB per person, more than its live objects (~0.15 KB),
   so the rewriting of every touched unit in each batch, not only what the unit holds, leaves memory
   behind. Tried and dropped: one dict of one int per person instead of two dicts (live objects fewer,
   serialised unit ~37 B per person shorter): 1,156-1,224 B against 1,084-1,144 B in three alternating
   pairs, worse every time (each person's int became a three-digit one and no day objects were shared
   any more, and storing it built three ints per person per write); units in batches of 4,096 messages
   or 3 s instead of 256 or 0.5 s: 1,526 and 1,597 B (a bigger peak leaves more behind); batches of 64:
   1,064 and 1,099 B (no clear change). tracemalloc (3 frames, 20,000 persons) of what lives after a
   drain: person state bytes 183 B, their table keys 67 B, the unit's stored value 73 B and its
   remembered updates 65 B a person, the decoded states of the cache, and the last batch's internal
   messages (a fixed amount). Latency: in `make bench` the latency publisher was kafka-python sending
   each record in a request of its own; beside the worker it used 62-69% of a core (`ps`), the broker
   ~43% and the worker ~75%, on two cores: two 60-s runs of the unchanged tree gave p99 5.2 s (p50 2.2-2.4 s).
   The publisher is now librdkafka (confluent-kafka, as a source system's would be): 18% of a core, the
   broker ~32%, and four runs gave p99 1.09, 4.66, 1.31 and 1.49 s (p50 0.34-1.38 s). py-spy of the
   worker over 20 s of such a run found it busy 96% of the time (957 of 1,000 samples): the core's stages
   ~3%, state JSON ~6% (the units' rewrite 5%), the rest faust's and aiokafka's per-record machinery
   (fetching, protocol encoding, producing, acknowledging; faust's consumer thread included). At
   1,000 events/s on this machine the worker has no headroom, and what it spends is Kafka hops, not
   the monitor's own work: the latency target, like the throughput one, needs fewer Kafka messages
   per event, not a faster core.

7. **The framework's own ceiling, and the units' writes** (2026-12-01, night). A faust agent that does
   nothing but read the input topic and JSON-decode each record (`benchmarks/bare_faust.py`: one agent,
   batches taken as the worker's agents take them, faust's defaults, no tables, no outputs), on the very
   topic of section 2, read 5,329-6,256 events/s in seven runs (record by record, in batches of 256, with
   10,000 records a poll and a stream buffer of 16,384, with commits every 30 s: all in that range),
   where the bare aiokafka consumer read 82,000-122,000/s: ~0.05x (in `make bench` of 22:09, 6,506
   against 70,246/s: 0.093x; the bare consumer varies more than the agent). py-spy of it (8 s): faust's consumer
   thread ~35% of the samples (fetching, handing the records over to the event loop), the rest the
   event loop's per-record work (the conductor, the stream iterator, asyncio tasks and futures; the
   `json.loads` itself under 1%). 0.25x of the bare consumer is therefore 2.7-5x what faust alone
   delivers on this machine, whatever the monitor's own work costs; the worker, with all of it, runs at
   0.3-0.4x of the framework alone. Section 2 prints this second baseline in every run. Units' writes: a unit holds
   every person it counts and is written whole in each batch that touches it; `json.dumps` took ~290 µs
   for a unit of 500 persons, msgspec takes ~24 µs and makes no Python object per entry, and a unit's
   state (version 2) stores what it remembers of a person as the packed int it holds, so writing it no
   longer builds a list and two ints per person. Latency at 1,000 events/s, 60 s, alternating with the
   tree before (json, unit state version 1): p99 0.41 and 0.54 s against 0.52 and 0.72 s (p50 0.17 and
   0.24 s against 0.24 and 0.34 s). Throughput and memory moved less than they vary from run to run:
   2,587 and 2,279 events/s against 2,231 and 2,413; memory per person at 100,000 persons 1,003-1,537 B
   against 911-1,486 B over 6 runs each, and in a last round with the new unit state everywhere, 1,092
   and 1,020 B with msgspec against 1,360 and 1,307 B with json. orjson, as fast as msgspec, was tried
   and dropped: each bytes object it returns keeps its ~4 KiB working buffer (100,000 stored person
   states took 4.1 KB each of resident memory instead of 0.14 KB). Also reconsidered: a unit's
   per-person entries under keys of their own (written only when they change) would cost more than
   they save at rest: a key of ~0.07 KB and a table slot per person-unit, where the unit's one value
   holds a person in ~0.04 KB.

8. **Four tasks per record, and the memory they left behind** (2026-12-02). py-spy of the bare faust agent
   of item 7 put ~28% of its event loop's samples under one line of faust's consumer,
   `await self.wait_first(callback(message), self.suspend_flow.wait())` (`Consumer._drain_messages`):
   for every record, `mode` wraps the delivery, the suspend event, the stopped and the crashed event in
   four tasks, waits on them and cancels three, though the delivery nearly always completes without
   waiting. The worker's consumer now runs a delivery directly and hands faust's `wait_first` only one
   that has to wait (a full stream buffer, flow control, the producer buffer), so a rebalance still
   abandons it (`agents/faust_fixes.py`, item 3 there; its unit tests fail without it). The bare faust
   agent, three rounds alternating faust as is, the worker's mending without this change, and with it:
   5,467 / 6,835 / 7,326, 5,279 / 5,141 / 6,391, 5,335 / 6,181 / 8,178 events/s (+7%, +24%, +32% for
   this change; section 2 now prints the mended agent beside faust's own). The worker's throughput and
   latency did not move beyond their noise (alternating, without / with: 2,521 and 2,244 / 2,077 and
   2,165 events/s; p99 at 1,000 events/s 1.50 and 2.73 s / 3.65 and 1.19 s, on a machine slower than at
   22:09): its input hop is not where its time goes (py-spy of a drain, the event loop's samples: the agents'
   own work ~38%, pydantic ~10% of it; producing ~14%, socket writes ~8% of it; faust's delivery ~20%).
   **Memory did move**: at 100,000 persons (section 4's run), alternating, 1,272 and 1,256 B per person
   without, 738 and 732 B with. Not traced further; most likely the
   cancelled tasks and their futures were cyclic garbage that waited for the collector (the worker
   collects the young generation every 50,000 allocations, item 4), and the drain's peak of it left
   CPython's pools behind (item 5). The resident memory once drained in section 2 fell the same way
   (145 MiB against 178-233 MiB).

9. **A compiled core, measured** (2026-12-02, for the decision on the replay target). `python -m
   benchmarks.compiled_core` compiles `streams/core` with mypyc (the project's mypy pin) in a copy of the
   tree and runs section 1's replay in fresh processes, alternating with the tree as it is: 11,492 /
   11,591 / 10,274 events/s plain against 15,409 / 15,410 / 15,593 compiled, **1.34x** (median CPU 11.84
   -> 8.83 s; cost vs a bare parse 17-18x -> 12-16x; an earlier pair the same morning gave 1.40-1.53x).
   Six modules stay plain as written (the ones defining pydantic models, the stream clock's generic slotted
   dataclass, the detector registry: the script lists why). Its outputs are not the same: mypyc stores an
   int in a field typed `float` as a float, so four indicator denominators of the sample read `68.0` where
   they read `68`; adopting it means finding every such field (tests would, the golden sample first), a C
   compiler at install and a build step after every edit of the core (a stale `.so` shadows the `.py`).
   Not adopted: a third of the time is not the target's 6x; pydantic's validation, datetime and dict work,
   which mypyc does not speed up, stay.
   The bare faust agent's profile during a drain (py-spy, 200 Hz, after item 8): ~32% of the event loop's
   samples under the mended `wait_first`, a quarter of that in faust's own `wait_first` (its four tasks):
   when the agent is the slower side the stream buffer is full, and a delivery has to wait. The worker
   rarely takes that path (8% of its samples under `wait_first`, ~1% in faust's), so making the waiting path
   cheaper would not move it.

Targets not met, and why:
- **Replay at most 3x a bare parse** (~8 µs an event). The bare loop costs ~2.6 µs a line; pydantic's
  validation ~4 µs by itself; a home-care contact's fold step ~3 µs, taken ~1.2 times since
  2026-12-05 (was ~2.9); the rest is spread thin over the pipeline in Python. What would take most
  next: decoding with msgspec into the core's own structs (pydantic kept for the contract and
  `schemas/`), and fewer result objects per event. Even all of it leaves pure Python near 10x; compiling
  the core as it is with mypyc gives 1.34x (item 9). 3x needs a different shape of the per-event path
  (events in columns, batched through compiled libraries), not a faster version of this one.
- **Worker at 0.25x a bare consumer.** The bare consumer reads and decodes ~0.1M records/s; the worker
  validates, pseudonymises (HMAC), runs three stateful stages, sends and awaits acknowledgements and
  writes changelogs, ~2.2-2.6k events/s on one worker, ~250x the region's morning peak (section 5).
  A faust agent that does nothing but read and decode reaches 0.05-0.09x of the bare consumer here
  (item 7, and section 2 in each run), ~0.075x with the worker's mending of faust (item 8): the target
  is 2.7-5x beyond what the framework itself delivers, and the worker runs at 0.3-0.4x of it. Meeting it
  needs the input read without faust's per-record delivery (the agents' broker reader already reads
  partitions directly when they catch up), which the product's choice of faust agents (README) rules
  out: a decision for whoever owns that choice, not a tuning.
- **p99 event->flag under 1 s at 1,000 events/s.** Met in some runs and not in others: 0.82 and 1.001 s
  on 2026-12-01 at 22:09, 3.38 and 0.71 s in section 3 of 2026-12-02 01:33, 1.19-3.65 s in the runs of
  item 8 the same night. At 1,000 events/s the worker, the broker and the publisher share two cores with
  little to spare (item 6), and the p99 follows how busy the machine is more than any change of the
  worker since item 7.

Met since item 8: **under 1 KB of worker memory per tracked person at 100,000 persons** (731-751 B in
five runs on 2026-12-02, three of them section 4's). What a person costs at rest is its serialised state
(~0.15 KB for one event, ~0.5 KB on a realistic stream), its key (~0.07 KB), its entry in the table's
dict (~0.05 KB) and its entries in its units' states (~0.1 KB serialised, ~0.15 KB decoded): ~0.5 KB of
live objects (tracemalloc); the rest is what CPython's allocator keeps after the drain's peak (items 5,
6 and 8). A realistic stream (several events a person) makes the serialised state larger than the
one-event persons of section 4. The replay process keeps every state decoded (~2.5 KB a person).
"""

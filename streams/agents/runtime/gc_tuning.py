"""The cyclic garbage collector, tuned for a long-running worker that keeps many objects alive.

CPython's collector walks every tracked object of a generation when it runs. A worker holds hundreds of
thousands of them (decoded person states, the flag board, faust's and aiokafka's machinery), and with the
default thresholds (700, 10, 10) it ran a full collection every ~2.5 s while the heap grew, each pausing
the event loop for 50-300 ms (measured with `gc.callbacks` at 1,000 events/s): the largest share of the
p99 event->flag latency. What is done here, once at start-up:

- `gc.freeze()` after the app is built: the modules, classes and faust's services made at start-up live
  as long as the process, so they are moved out of the collector's sight instead of walked again at
  every full collection.
- A young generation of `YOUNG` allocations instead of 700, and older generations collected less often:
  the worker's own per-batch objects are freed by reference counting (no reference cycles: see
  `agents/runtime/outputs.py`, and the unit test that holds it), so the collector has little to find.
"""

from __future__ import annotations

import gc

YOUNG = 50_000
MIDDLE = 20
OLD = 100


def tune_garbage_collector() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG, MIDDLE, OLD)

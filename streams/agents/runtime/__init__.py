"""How the worker runs its stages, whatever they are: the one agent shell (`stage_agent.py`) that reads a
topic's records in batches, the input positions and the broker reader behind it, decoded-state caches,
the codec of table values, what a batch sends (`outputs.py`) and how internal messages travel
(`shipping.py`, `records.py`, `partitioning.py`), the topics, what the agents share (`context.py`), and
process tuning (`gc_tuning.py`, `heap_trim.py`). Nothing here knows a stage of the monitor."""

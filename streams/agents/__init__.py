"""The live worker: `worker.py` builds the Faust app, `runtime/` runs stages (nothing in it knows a stage),
`stages/` holds one agent per stage of the pipeline, `web/` the inbox and operational pages, and
`faust_fixes.py` the only mending of Faust."""

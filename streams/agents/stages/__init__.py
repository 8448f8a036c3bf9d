"""The monitor's stages as Faust agents, one module each: `ingest` (the door), `persons`, `units`,
`organisation`, `programmes` and `flag_store`. Each runs the core's step (streams/core/stages/) on the
batches the runtime gives it and says what goes out; none holds domain logic of its own."""

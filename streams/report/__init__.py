"""The steering group's quarterly report on a programme: `make.py` makes it from replayed events or from
figures already computed (`stored.py`: a `replay --programmes-out` file, the worker's topic), `quarterly.py`
renders the self-contained HTML page, `charts.py` draws its charts."""

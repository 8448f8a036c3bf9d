"""What the worker serves over HTTP: the flag inbox (`inbox.py` wires it, `inbox_view.py` is its read
model, `inbox_api.py` its API, `inbox.html` its page) and the operational pages (`pages.py`: /health,
/metrics, /debug/progress)."""

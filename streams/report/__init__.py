"""The steering group's quarterly report on a programme: `quarterly.py` builds the self-contained HTML page
from replayed ledgers, `charts.py` draws its charts. Reads event files through files/replay.py."""

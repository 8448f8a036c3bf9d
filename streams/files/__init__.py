"""File and command-line adapters: replay, publish, the flag viewer, the simulator."""

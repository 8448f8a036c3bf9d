"""One person: facts, the fold over them, the rules, and the tracker that keeps results order-independent."""

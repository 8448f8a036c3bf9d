"""Flag lifecycle, routing and notification formatting (acknowledge / resolve). Plain Python."""

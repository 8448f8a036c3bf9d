"""Event files in and out: `replay.py` runs the whole monitor over a file in one process, `publish.py` sends
a file to Kafka as a third party would, `flagview.py` follows the flags topic (both Kafka clients)."""

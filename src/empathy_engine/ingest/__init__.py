"""Wire formats stop here: each reader turns its input into typed events (events.py)."""

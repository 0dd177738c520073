"""The learning loop: which phrasing of a cue works, learned from outcomes (docs/learning.md)."""

"""The redaction labelled set: a seeded generator (generate.py) and hand-written hard cases
(training/data/pii/hard_cases.jsonl); training/evaluate_redaction.py measures the redactor on both."""

"""Coaching: the playbook and the customer's context turn a state into one cue card; escalation."""

"""Perceivers turn events into signals: the text model, conversation patterns, call context."""

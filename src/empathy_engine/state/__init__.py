"""The per-call tracker that fuses signals into the customer's state, turn by turn."""

"""Practice mode: a simulated customer plays a scenario; the real engine reads every agent reply.

Above the pipeline (like audit/): it opens a live `CallSession` per practice run, so a practice
reply is read exactly as a live call's reply would be (docs/practice.md).
"""

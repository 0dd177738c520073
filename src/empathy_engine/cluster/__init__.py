"""Several replicas on loopback for development and tests: `empathy cluster up/down` (docs/deploy.md)."""

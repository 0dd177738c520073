"""Scripts that build the bundled model artefacts (torch lives here, never in the runtime)."""

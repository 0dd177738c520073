"""Storage: SQLAlchemy 2 models, Alembic migrations (shipped in the package), the call store."""

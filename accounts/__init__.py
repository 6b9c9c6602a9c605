"""Organisations, users, roles and the access framework."""

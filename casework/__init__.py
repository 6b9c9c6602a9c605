"""Clients, cases, the contact log and field encryption."""

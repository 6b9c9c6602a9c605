"""Models of meetings (none yet; see the open issues)."""

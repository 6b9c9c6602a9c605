"""Models of indicators (none yet; see the open issues)."""

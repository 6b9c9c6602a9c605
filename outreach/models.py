"""Models of outreach (none yet; see the open issues)."""

"""Models of referrals (none yet; see the open issues)."""

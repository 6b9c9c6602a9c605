"""Referrals and transfers between organisations."""

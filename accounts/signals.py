"""Extension points of accounts: the signals other apps may listen to, in one place.

Each signal's docstring names its arguments. Accounts imports none of its listeners; an
app that must react (api revokes tokens) connects in its AppConfig.ready().
"""

from django.dispatch import Signal

credentials_changed = Signal()
"""A user's credentials changed: password changed or reset, second factor enrolled,
replaced or reset. Sent inside the transaction that made the change, so a listener's
writes commit or roll back with it.

Arguments: `user` (the account whose credentials changed), `reason` (one of
"password_change", "password_reset", "factor_replace", "factor_reset"), `actor` (who
made the change: the user, or the person who reset it for them).
"""

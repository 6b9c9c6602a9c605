"""The access matrix: what every view needs, in one place.

Keys are URL names as `request.resolver_match.view_name` gives them; `namespace:*` covers a
namespace. A view missing here is refused to everybody (accounts.access.AccessMiddleware),
and tests/security/test_access_matrix.py fails until it is added. Object rules are enforced
by the selectors and services the views call; they are named here for the reader.
"""

from accounts.access import AUTHENTICATED, PUBLIC, Rule, needs

MATRIX: dict[str, Rule] = {
    # Sign-in and language: reachable before login.
    "accounts:login": PUBLIC,
    "set_language": PUBLIC,
    "health": PUBLIC,
    # Any signed-in staff member.
    "accounts:logout": AUTHENTICATED,
    "accounts:password_change": AUTHENTICATED,
    "accounts:password_change_done": AUTHENTICATED,
    "home": AUTHENTICATED,
    # Django admin: system administrators manage users and master data. No casework model
    # is registered there, so the admin never shows case content.
    "admin:*": needs("accounts.change_user"),
}

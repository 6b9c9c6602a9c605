"""pytest plugin loaded before Django: fresh keys for every test run, never a stored one.

Loaded with `-p tests.ephemeral_env` (pyproject.toml), so it runs before pytest-django
imports the settings. Values already in the environment (CI's DATABASE_URL) are kept.
"""

import base64
import os
import secrets

_EPHEMERAL = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "FIELD_ENCRYPTION_KEYS": "test1:" + base64.b64encode(os.urandom(32)).decode(),
    "BLIND_INDEX_KEY": base64.b64encode(os.urandom(32)).decode(),
}
for _name, _value in _EPHEMERAL.items():
    os.environ[_name] = _value
# Tests talk plain HTTP to the test client; secure cookies and HSTS stay as in production.
os.environ["DEBUG"] = "false"
os.environ["SECURE_SSL_REDIRECT"] = "false"
# Static files from the source folders (production serves the collected, hashed set).
os.environ["STATIC_MANIFEST"] = "false"

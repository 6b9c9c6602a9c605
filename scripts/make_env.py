#!/usr/bin/env python3
"""Write a local, git-ignored .env with freshly generated keys, unless one exists.

For the demo and development only. Production takes its settings from the service
environment; no key is ever read from the repository.
"""

from __future__ import annotations

import base64
import datetime
import os
import secrets
import sys
from pathlib import Path

ENV_FILE = Path(__file__).resolve().parent.parent / ".env"


def main() -> int:
    if ENV_FILE.exists():
        print(f"{ENV_FILE.name} exists; keeping its keys.")
        return 0
    key_id = "k" + datetime.datetime.now(datetime.UTC).strftime("%Y%m%d")
    lines = [
        "# Local demo settings with keys generated on this machine. Never commit this file.",
        f"SECRET_KEY={secrets.token_urlsafe(50)}",
        f"FIELD_ENCRYPTION_KEYS={key_id}:{base64.b64encode(os.urandom(32)).decode()}",
        f"BLIND_INDEX_KEY={base64.b64encode(os.urandom(32)).decode()}",
        "DEBUG=true",
        "ALLOWED_HOSTS=localhost,127.0.0.1",
    ]
    fd = os.open(ENV_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    print(f"Wrote {ENV_FILE.name} with new keys (mode 600).")
    return 0


if __name__ == "__main__":
    sys.exit(main())

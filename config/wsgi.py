"""WSGI entry point (gunicorn config.wsgi)."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# What the process made while starting (Django, the apps, their modules and settings) lives
# as long as the process. Out of the collector's reach, it no longer makes every full
# collection walk it: those took up to 100 ms each, a request's worth, every few hundred
# requests (docs/scaling.md).
gc.freeze()

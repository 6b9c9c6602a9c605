"""The project: settings, URLs, the access matrix, database routing and timeouts."""

# True in a management command (manage.py sets it before the settings load): the database
# timeouts of web requests do not apply there (config/timeouts.py).
COMMAND_LINE = False

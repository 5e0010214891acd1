"""WSGI entry point: ``gunicorn -c gunicorn.conf.py wsgi:app`` and ``flask --app wsgi ...``."""
from app import create_app
from app.startup import StartupError, fail

try:
    app = create_app()
except StartupError as exc:
    fail(exc)  # one line instead of a traceback, and a non-zero exit

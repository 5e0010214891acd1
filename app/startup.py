"""Start-up checks that turn a wrong setting or an unreachable database into one clear line.

A bad ``DATABASE_URL`` or a database that does not answer used to surface as a traceback of
a hundred lines from deep inside SQLAlchemy or Alembic. ``create_app`` checks the database once
(every command needs it), gunicorn's master runs ``check_or_exit`` before it starts a worker,
and ``wsgi.py`` prints the line and exits for the Flask CLI.
"""
from __future__ import annotations

import sys
from typing import NoReturn

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from .config import ConfigError, load_config

# gunicorn stops (instead of starting the worker again and again) when a worker exits with
# its "app failed to load" code; for the Flask CLI it is just a non-zero status.
EXIT_CODE = 4


class StartupError(Exception):
    """Constellation cannot start as configured; the message says why, in one line."""


def _first_line(exc: BaseException) -> str:
    # The driver's own error without SQLAlchemy's SQL echo and "Background on this error".
    cause = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    return lines[0] if lines else type(cause).__name__


def check_database(engine: Engine) -> None:
    """Connect once and run ``SELECT 1``; a failure becomes a ``StartupError``."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (SQLAlchemyError, ImportError, OSError) as exc:
        where = make_url(engine.url).render_as_string(hide_password=True)
        raise StartupError(f"cannot use the database {where} (DATABASE_URL): "
                           f"{_first_line(exc)}") from None


def check_workers(workers: int, redis_url: str) -> None:
    """More than one serving process shares chargers, commands and events through Redis."""
    if workers < 1:
        raise StartupError(f"WEB_WORKERS must be at least 1, got {workers}")
    if workers > 1 and not redis_url:
        raise StartupError(f"WEB_WORKERS={workers} needs REDIS_URL: several processes share "
                           "their chargers' commands and live events through Redis (set "
                           "REDIS_URL, or run one worker)")


def web_workers() -> int:
    """``WEB_WORKERS`` (gunicorn worker processes), 1 when unset."""
    import os

    raw = os.environ.get("WEB_WORKERS", "").strip() or "1"
    try:
        return int(raw)
    except ValueError:
        raise StartupError(f"WEB_WORKERS must be a whole number, got {raw!r}") from None


def check() -> None:
    """The configuration and the database, as a serving process will see them."""
    try:
        config = load_config()
    except ConfigError as exc:
        raise StartupError(str(exc)) from None
    check_workers(web_workers(), config["REDIS_URL"])
    try:
        engine = create_engine(config["SQLALCHEMY_DATABASE_URI"])
    except (SQLAlchemyError, ImportError) as exc:
        raise StartupError(f"cannot use DATABASE_URL: {_first_line(exc)}") from None
    try:
        check_database(engine)
    finally:
        engine.dispose()


def fail(exc: BaseException) -> NoReturn:
    print(f"constellation: error: {exc}", file=sys.stderr, flush=True)
    raise SystemExit(EXIT_CODE)


def check_or_exit() -> None:
    """``check``, printing one line and exiting when it fails (gunicorn's master)."""
    try:
        check()
    except StartupError as exc:
        fail(exc)

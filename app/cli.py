"""Flask CLI: ``flask --app wsgi users create NAME --password P --role admin``,
``flask --app wsgi users password NAME`` and ``flask --app wsgi users token NAME`` (prints a new
API token as its last line)."""
from __future__ import annotations

import click
from flask import Blueprint
from sqlalchemy import select

from .extensions import db
from .models import User
from .models.user import ROLES
from .services import users as user_service

bp = Blueprint("cli", __name__, cli_group=None)


@bp.cli.group("users")
def users() -> None:
    """Manage users and their API tokens."""


@users.command("create")
@click.argument("name")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--role", type=click.Choice(ROLES), default="viewer", show_default=True)
def create(name: str, password: str, role: str) -> None:
    """Create user NAME."""
    try:
        user_service.create_user(name, password, role)
    except user_service.UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {role} {name}")


@users.command("password")
@click.argument("name")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def password(name: str, password: str) -> None:
    """Set NAME's password; every console session of NAME ends."""
    user = db.session.execute(select(User).where(User.name == name)).scalar_one_or_none()
    if user is None:
        raise click.ClickException(f"no user {name!r}")
    try:
        user_service.set_password(user, password)
    except user_service.UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"password of {name} changed; their console sessions have ended")


@users.command("token")
@click.argument("name")
def token(name: str) -> None:
    """Print a new API token for NAME (keep it: it is shown once)."""
    user = db.session.execute(select(User).where(User.name == name)).scalar_one_or_none()
    if user is None:
        raise click.ClickException(f"no user {name!r}")
    click.echo(f"API token for {name} (use as 'Authorization: Bearer <token>'):")
    click.echo(user_service.issue_token(user))


@users.command("list")
def list_users() -> None:
    """List users."""
    for user in db.session.execute(select(User).order_by(User.name)).scalars():
        click.echo(f"{user.name}\t{user.role}\t{'active' if user.active else 'disabled'}")


@bp.cli.group("messages")
def messages() -> None:
    """The OCPP message log."""


@messages.command("prune")
@click.option("--days", type=float, default=None,
              help="Keep this many days (default: MESSAGE_LOG_RETENTION_DAYS).")
def prune(days: float | None) -> None:
    """Delete message log entries older than the retention."""
    from flask import current_app

    from .models import utcnow
    from .services.retention import SLICE, prune_message_log

    days = current_app.config["MESSAGE_LOG_RETENTION_DAYS"] if days is None else days
    total = 0
    while True:
        with db.engine.begin() as conn:
            deleted = prune_message_log(conn, utcnow(), days)
        total += deleted
        if deleted:
            click.echo(f"deleted {total} entries so far")
        if deleted < SLICE:
            break
    click.echo(f"deleted {total} message log entries older than {days:g} days")

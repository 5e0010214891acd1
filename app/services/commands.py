"""Commands to chargers: one service for the API, the console and background jobs.

``submit`` checks and records a command, then ``execute`` sends it and stores the outcome and its
effects. ``execute`` takes only the command's id, so that it can run in whichever process holds
the charger's socket (see ``routing``).
"""
from __future__ import annotations

import logging
from typing import Any

from flask import current_app
from sqlalchemy import select

from .. import runtime
from ..extensions import db
from ..models import Charger, Command, utcnow
from ..ocpp import validation
from . import command_effects
from .errors import DomainError

log = logging.getLogger(__name__)

MAX_TIMEOUT = 300.0


class CommandRefused(DomainError):
    """The command cannot be sent as asked (written status first at every raise here)."""

    def __init__(self, status: int, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, status, details)


def actions(version: str | None = None) -> list[str]:
    """The commands that can be sent to a charger of ``version`` (None: of any version)."""
    known = runtime.ocpp_versions(current_app)
    chosen = [known.get(version)] if version else list(known)
    return sorted({action for v in chosen if v is not None for action in v.commands})


def charger_by_identity(identity: str) -> Charger:
    """The charger, with the version of its open connection when it is connected here: the
    connection's mark is written by the group writer a moment after the handshake, and a
    command sent meanwhile must be worded in the version the socket speaks."""
    charger = db.session.execute(
        select(Charger).where(Charger.identity == identity)).scalar_one_or_none()
    if charger is None:
        raise CommandRefused(404, f"no charger {identity!r}")
    connection = runtime.registry(current_app).get(identity)
    if connection is not None and charger.ocpp_version != connection.session.version.name:
        charger.ocpp_version = connection.session.version.name
    return charger


def submit(identity: str, action: str, payload: dict[str, Any] | None = None, *,
           timeout: float | None = None, wait: bool = True, requested_by: str | None = None,
           source: str = "api", options: dict[str, Any] | None = None,
           remote_start_id: int | None = None) -> Command:
    """Check, record and send a command. With ``wait`` returns once it is answered.

    ``remote_start_id``: the remoteStartId of a 2.x RequestStartTransaction, stored on the
    command so that the transaction the charger then reports is linked to it.
    """
    charger = charger_by_identity(identity)
    version = charger.ocpp_version or "1.6"
    commands = actions(version)
    if action not in commands:
        raise CommandRefused(400, f"{action!r} is not a command of OCPP {version}; one of: "
                                  + ", ".join(commands))
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise CommandRefused(400, "payload must be a JSON object")
    timeout = float(timeout if timeout is not None else current_app.config["OCPP_CALL_TIMEOUT"])
    if not 0 < timeout <= MAX_TIMEOUT:
        raise CommandRefused(400, f"timeout must be more than 0 and at most {MAX_TIMEOUT:g} s")
    if not runtime.router(current_app).is_connected(identity):
        raise CommandRefused(409, f"charger {identity!r} is not connected")
    # The values given are checked before prepare uses them (an id that is a list, an integer
    # beyond 64 bits, a lone surrogate); fields prepare fills in may still be missing here.
    _check_payload(version, action, payload, partial=True)
    command = Command(charger_id=charger.id, action=action, status="pending", timeout=timeout,
                      requested_by=requested_by, source=source, created_at=utcnow(),
                      remote_start_id=remote_start_id)
    db.session.add(command)
    db.session.flush()
    try:
        payload = command_effects.prepare(command, charger, dict(payload), options or {})
    except command_effects.EffectError as exc:
        db.session.rollback()
        raise CommandRefused(exc.status, str(exc)) from None
    try:
        _check_payload(version, action, payload)
    except CommandRefused:
        db.session.rollback()
        raise
    command.request = payload
    db.session.commit()
    # The process holding the socket executes it (here, or another one through Redis).
    runtime.router(current_app).route(identity, command.id, timeout, wait)
    if wait:
        db.session.expire_all()
        return db.session.get(Command, command.id)
    return command


def _check_payload(version: str, action: str, payload: dict[str, Any], *,
                   partial: bool = False) -> None:
    violation = validation.check_outgoing(version, action, payload, partial=partial)
    if violation is not None:
        raise CommandRefused(422, f"invalid {action} payload: {violation.description}",
                             {"code": violation.code, **violation.details})


def execute(command_id: int) -> Command:
    """Send a recorded command on this process's socket of its charger, and store the outcome
    and its effects (the router calls it in the process holding the socket)."""
    command = db.session.get(Command, command_id)
    charger = db.session.get(Charger, command.charger_id)
    identity, action, request, timeout = (charger.identity, command.action,
                                          command.request, command.timeout)
    # Never wait on a socket inside a transaction: SQLite would stay locked meanwhile.
    db.session.commit()
    outcome = runtime.router(current_app).call(identity, action, request, timeout)
    command = _record_outcome(command_id, outcome)
    # The outcome is committed first: an effect that fails (a value the charger reported that
    # cannot be stored) is logged and noted, and never leaves the command pending.
    try:
        command_effects.apply(command, db.session.get(Charger, command.charger_id))
        db.session.commit()
    except Exception as exc:  # noqa: BLE001 - the outcome stands; say what was not stored
        db.session.rollback()
        log.exception("command %s %s: storing its effect failed", command_id, action)
        command = db.session.get(Command, command_id)
        first_line = (str(exc).splitlines() or [""])[0]
        command.effect_error = f"{type(exc).__name__}: {first_line}"[:500]
        db.session.commit()
    runtime.events(current_app).publish("command", identity, command_id=command.id, action=action,
                                        status=command.status)
    log.info("command %s %s to %s: %s", command.id, action, identity, command.status)
    return command


def _record_outcome(command_id: int, outcome: Any) -> Command:
    """Store what became of the CALL; if the reply itself cannot be stored, the command is an
    error saying so (it must never stay pending)."""
    command = db.session.get(Command, command_id)
    command.status = outcome.status
    command.message_id = outcome.message_id or None
    command.response = outcome.response
    command.error_code = outcome.error_code
    command.error_description = outcome.error_description
    command.error_details = outcome.error_details or None
    command.sent_at = outcome.sent_at
    command.completed_at = utcnow()
    command.duration_ms = outcome.duration_ms
    try:
        db.session.commit()
        return command
    except Exception:  # noqa: BLE001
        db.session.rollback()
        log.exception("command %s: storing the outcome failed", command_id)
    command = db.session.get(Command, command_id)
    command.status = "error"
    command.message_id = None
    command.response = None
    command.error_code = "InternalError"
    command.error_description = "the charger's reply could not be stored"
    command.error_details = None
    command.sent_at = outcome.sent_at
    command.completed_at = utcnow()
    command.duration_ms = outcome.duration_ms
    db.session.commit()
    return command


def command_to_dict(command: Command) -> dict[str, Any]:
    from ..models.base import isoformat

    body: dict[str, Any] = {
        "id": command.id,
        "charger": command.charger_id and db.session.get(Charger, command.charger_id).identity,
        "action": command.action,
        "status": command.status,
        "request": command.request,
        "response": command.response,
        "requested_by": command.requested_by,
        "source": command.source,
        "created_at": isoformat(command.created_at),
        "completed_at": isoformat(command.completed_at),
        "duration_ms": command.duration_ms,
        "timeout": command.timeout,
    }
    if command.status == "error":
        body["error"] = {"code": command.error_code, "description": command.error_description,
                         "details": command.error_details or {}}
    if command.effect_error:
        body["effect_error"] = command.effect_error
    if command.transaction_id is not None:
        body["transaction_id"] = command.transaction_id
    if command.remote_start_id is not None:
        body["remote_start_id"] = command.remote_start_id
    return body

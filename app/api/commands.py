"""``POST /api/v1/chargers/<identity>/commands``, ``GET /api/v1/commands/<id>``, command lists."""
from __future__ import annotations

from flask import g, request
from sqlalchemy import select

from ..models import Command
from ..services import commands as command_service
from . import bp
from .args import charger_id_arg, row_or_404
from .auth import can_write
from .errors import ApiError
from .util import json_body, paginate


@bp.post("/chargers/<path:identity>/commands")
@can_write
def send_command(identity: str):
    body = json_body()
    action = body.get("action")
    if not isinstance(action, str) or not action:
        raise ApiError(400, "action is required, e.g. {\"action\": \"Reset\", "
                            "\"payload\": {\"type\": \"Soft\"}}")
    timeout = body.get("timeout")
    if timeout is not None and not isinstance(timeout, (int, float)):
        raise ApiError(400, "timeout must be a number of seconds")
    wait = body.get("wait", True)
    if not isinstance(wait, bool):
        raise ApiError(400, "wait must be true or false")
    options = {k: body[k] for k in ("firmware_file_id",) if k in body}
    command = command_service.submit(
        identity, action, body.get("payload"), timeout=timeout, wait=wait,
        requested_by=g.api_user.name, source="api", options=options,
    )
    return command_service.command_to_dict(command), (200 if wait else 202)


@bp.get("/commands/<int:command_id>")
def get_command(command_id: int):
    return command_service.command_to_dict(row_or_404(Command, command_id, "command"))


@bp.get("/commands")
def list_commands():
    stmt = select(Command).order_by(Command.id.desc())
    charger_id = charger_id_arg()
    if charger_id is not None:
        stmt = stmt.where(Command.charger_id == charger_id)
    for name in ("action", "status"):
        if request.args.get(name):
            stmt = stmt.where(getattr(Command, name) == request.args[name])
    return paginate(stmt, command_service.command_to_dict)

"""``POST /api/v1/chargers/<identity>/operations/<name>``: a version-neutral operation, and
``GET /api/v1/operations``: what operations there are, their arguments and which versions can do
each (``services/operations.py``; docs/operations.md is the table of what each version sends).
"""
from __future__ import annotations

from flask import g, request

from ..services import commands as command_service
from ..services import operations as operation_service
from . import bp
from .auth import can_write
from .errors import ApiError
from .util import json_body


@bp.post("/chargers/<path:identity>/operations/<name>")
@can_write
def run_operation(identity: str, name: str):
    # The body is the operation's arguments; how to send is said in the query string.
    args = json_body() if request.get_data() else {}
    wait = request.args.get("wait", "true")
    if wait not in ("true", "false"):
        raise ApiError(400, "wait must be true or false")
    timeout = request.args.get("timeout")
    if timeout is not None:
        try:
            timeout = float(timeout)
        except ValueError:
            raise ApiError(400, "timeout must be a number of seconds") from None
    command = operation_service.run(identity, name, args, requested_by=g.api_user.name,
                                    source="api", wait=wait == "true", timeout=timeout)
    body = {**command_service.command_to_dict(command), "operation": name}
    return body, (200 if wait == "true" else 202)


@bp.get("/operations")
def list_operations():
    return {"items": operation_service.catalogue()}

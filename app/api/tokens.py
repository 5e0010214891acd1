"""``/api/v1/tokens``: the id tags chargers may charge with (list, create, change, delete)."""
from __future__ import annotations

from flask import request

from ..services import tokens as token_service
from . import bp
from .auth import can_write
from .util import json_body, paginate


@bp.get("/tokens")
def list_tokens():
    stmt = token_service.query(status=request.args.get("status"), q=request.args.get("q"))
    return paginate(stmt, token_service.to_dict)


@bp.post("/tokens")
@can_write
def create_token():
    fields = dict(json_body())
    id_tag = fields.pop("id_tag", None)
    token = token_service.create(id_tag, fields)
    return token_service.to_dict(token), 201


@bp.get("/tokens/<path:id_tag>")
def get_token(id_tag: str):
    return token_service.to_dict(token_service.get(id_tag))


@bp.patch("/tokens/<path:id_tag>")
@can_write
def update_token(id_tag: str):
    body = json_body()
    return token_service.to_dict(token_service.update(id_tag, body))


@bp.delete("/tokens/<path:id_tag>")
@can_write
def delete_token(id_tag: str):
    token_service.delete(id_tag)
    return "", 204

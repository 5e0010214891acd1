"""``/api/v1/tokens``: the id tags chargers may charge with (list, create, change, delete)."""
from __future__ import annotations

from flask import request

from ..services import tokens as token_service
from . import bp
from .auth import can_write
from .errors import ApiError
from .util import json_body, paginate


def _error(exc: token_service.TokenError) -> ApiError:
    return ApiError(exc.status, exc.message)


@bp.get("/tokens")
def list_tokens():
    try:
        stmt = token_service.query(status=request.args.get("status"), q=request.args.get("q"))
    except token_service.TokenError as exc:
        raise _error(exc) from None
    return paginate(stmt, token_service.to_dict)


@bp.post("/tokens")
@can_write
def create_token():
    fields = dict(json_body())
    id_tag = fields.pop("id_tag", None)
    try:
        token = token_service.create(id_tag, fields)
    except token_service.TokenError as exc:
        raise _error(exc) from None
    return token_service.to_dict(token), 201


@bp.get("/tokens/<path:id_tag>")
def get_token(id_tag: str):
    try:
        return token_service.to_dict(token_service.get(id_tag))
    except token_service.TokenError as exc:
        raise _error(exc) from None


@bp.patch("/tokens/<path:id_tag>")
@can_write
def update_token(id_tag: str):
    body = json_body()
    try:
        return token_service.to_dict(token_service.update(id_tag, body))
    except token_service.TokenError as exc:
        raise _error(exc) from None


@bp.delete("/tokens/<path:id_tag>")
@can_write
def delete_token(id_tag: str):
    try:
        token_service.delete(id_tag)
    except token_service.TokenError as exc:
        raise _error(exc) from None
    return "", 204

"""JSON errors for the API: ``{"error": <HTTP reason>, "message": <what to fix>}``.

Services raise ``DomainError`` (``services/errors.py``); this one handler turns every one of
them into its 4xx, so API views call services without translating errors by hand.
"""
from __future__ import annotations

from flask import jsonify
from werkzeug.exceptions import HTTPException

from ..services.errors import DomainError
from . import bp


class ApiError(Exception):
    """Raise with a status and a message a user can act on."""

    def __init__(self, status: int, message: str, **extra) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    body = {"error": _reason(exc.status), "message": exc.message, **exc.extra}
    return jsonify(body), exc.status


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError):
    body = {"error": _reason(exc.status), "message": exc.message}
    if exc.details:
        body["details"] = exc.details
    return jsonify(body), exc.status


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return jsonify({"error": exc.name, "message": exc.description}), exc.code


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"

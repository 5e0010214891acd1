"""Bearer-token authentication for every API route, and role checks."""
from __future__ import annotations

from functools import wraps

from flask import abort, g, request

from ..services.users import user_for_token
from . import bp

# Roles allowed to change things (send commands, edit tokens, register chargers).
WRITE_ROLES = ("admin", "operator")
PUBLIC_ENDPOINTS = {"api.openapi_json", "api.openapi_docs"}


@bp.before_request
def authenticate():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        abort(401, description="a bearer token is required (Authorization: Bearer <token>)")
    user = user_for_token(token.strip())
    if user is None:
        abort(401, description="the bearer token is not valid")
    g.api_user = user
    return None


def require_role(*roles: str):
    """Allow the route only to users with one of ``roles`` (403 otherwise)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if g.api_user.role not in roles:
                abort(403, description=f"this needs the role {' or '.join(roles)}")
            return view(*args, **kwargs)

        return wrapped

    return decorator


def can_write(view):
    return require_role(*WRITE_ROLES)(view)

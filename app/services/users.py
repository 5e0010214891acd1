"""Users and API tokens: creation, password checks, bearer-token lookup."""
from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import ApiToken, User, utcnow
from ..models.user import ROLES

TOKEN_PREFIX = "cst_"


class UserError(ValueError):
    """A user operation that cannot be done as asked (the message says why)."""


def create_user(name: str, password: str, role: str) -> User:
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    if not name or len(name) > 64:
        raise UserError("name must be 1 to 64 characters")
    if len(password) < 8:
        raise UserError("password must be at least 8 characters")
    if db.session.execute(select(User).where(User.name == name)).scalar_one_or_none():
        raise UserError(f"user {name!r} already exists")
    # scrypt: werkzeug's default, memory-hard.
    user = User(name=name, password_hash=generate_password_hash(password), role=role)
    db.session.add(user)
    db.session.commit()
    return user


def set_role(user: User, role: str) -> None:
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    user.role = role
    db.session.commit()


def set_active(user: User, active: bool) -> None:
    """Disable or re-enable an account: a disabled user can neither log in nor use API tokens."""
    user.active = active
    db.session.commit()


def check_password(user: User, password: str) -> bool:
    return check_password_hash(user.password_hash, password)


def issue_token(user: User) -> str:
    """Create a new bearer token for ``user``; only its SHA-256 is stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, token_sha256=_digest(token), prefix=token[:10]))
    db.session.commit()
    return token


def user_for_token(token: str) -> User | None:
    row = db.session.execute(
        select(ApiToken).where(ApiToken.token_sha256 == _digest(token),
                               ApiToken.revoked.is_(False))
    ).scalar_one_or_none()
    if row is None or not row.user.active:
        return None
    row.last_used_at = utcnow()
    db.session.commit()
    return row.user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()

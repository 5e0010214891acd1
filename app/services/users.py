"""Users and API tokens: creation, password checks, bearer-token lookup, session revocation.

A user's ``session_version`` is part of every console session cookie (``ConsoleUser.get_id``);
logging out or changing the password increments it, so a cookie copied before no longer logs in.
"""
from __future__ import annotations

import hashlib
import secrets
import threading

from sqlalchemy import select, update
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import ApiToken, User, utcnow
from ..models.user import ROLES
from .errors import DomainError

TOKEN_PREFIX = "cst_"


class UserError(DomainError):
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


def set_password(user: User, password: str) -> None:
    """Change the password; every session of the user ends (``session_version``)."""
    if len(password) < 8:
        raise UserError("password must be at least 8 characters")
    user.password_hash = generate_password_hash(password)
    user.session_version = (user.session_version or 0) + 1
    db.session.commit()


def end_sessions(user_id: int) -> None:
    """Invalidate every console session cookie of the user (logout does it)."""
    db.session.execute(update(User).where(User.id == user_id)
                       .values(session_version=User.session_version + 1))
    db.session.commit()


def check_password(user: User, password: str) -> bool:
    return _verify(user.password_hash, password)


# Counts password-hash checks (tests read it: unknown names must cost one too).
password_checks = 0
_dummy: list[str] = []
_dummy_lock = threading.Lock()


def authenticate(name: str, password: str) -> User | None:
    """The active user ``name`` if ``password`` is theirs, else None.

    An unknown or disabled name costs the same scrypt check as a real one (against a dummy hash
    made with the same parameters), so the answer's timing does not tell which names exist.
    """
    user = db.session.execute(select(User).where(User.name == name)).scalar_one_or_none()
    if user is None or not user.active:
        _verify(_dummy_hash(), password)
        return None
    return user if _verify(user.password_hash, password) else None


def _dummy_hash() -> str:
    with _dummy_lock:
        if not _dummy:
            _dummy.append(generate_password_hash(secrets.token_urlsafe(16)))
        return _dummy[0]


def _verify(password_hash: str, password: str) -> bool:
    global password_checks
    password_checks += 1
    return _off_loop(check_password_hash, password_hash, password)


def _off_loop(fn, *args):
    """Run CPU-heavy ``fn`` (scrypt) in gevent's thread pool when gevent is in charge: hashlib
    releases the GIL, so chargers' sockets are served while a password is checked."""
    try:
        from gevent import get_hub, monkey
    except ImportError:  # pragma: no cover - gevent is a dependency
        return fn(*args)
    if not monkey.is_module_patched("threading"):
        return fn(*args)
    return get_hub().threadpool.apply(fn, args)


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

"""Chargers as operators manage them: registration, settings, and their public representation.

Used by the REST API and the console alike; raises ``ChargerError`` with a message a user can act
on (and the HTTP status the API answers with).
"""
from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import select

from .. import runtime
from ..extensions import db
from ..models import Charger, utcnow
from ..models.base import isoformat
from .errors import DomainError

REGISTRATION_STATUSES = ("accepted", "pending", "rejected")
MAX_IDENTITY = 64
MAX_DESCRIPTION = 255
# Fields an operator may set; everything else is what the charger reports.
EDITABLE = ("description", "enabled", "registration_status", "lenient", "ocpp_version_pin")


class ChargerError(DomainError):
    """A charger operation that cannot be done as asked."""


def get(identity: str) -> Charger:
    charger = db.session.execute(
        select(Charger).where(Charger.identity == identity)).scalar_one_or_none()
    if charger is None:
        raise ChargerError(f"no charger {identity!r}", 404)
    return charger


def check_identity(identity: Any) -> str:
    if not isinstance(identity, str) or not 1 <= len(identity) <= MAX_IDENTITY:
        raise ChargerError(f"identity must be a string of 1 to {MAX_IDENTITY} characters")
    # The identity is the last segment of the websocket URL, so a '/' could never connect.
    if "/" in identity:
        raise ChargerError("identity must not contain '/'")
    if identity != identity.strip() or not identity.isprintable():
        raise ChargerError("identity must not have surrounding spaces, control or invisible "
                           "characters")
    # URLs resolve these as path steps: the charger would connect as something else.
    if identity in (".", ".."):
        raise ChargerError("identity must not be '.' or '..'")
    return identity


def _apply(charger: Charger, fields: dict[str, Any]) -> None:
    unknown = sorted(set(fields) - set(EDITABLE))
    if unknown:
        raise ChargerError(f"unknown or read-only field(s): {', '.join(unknown)}; "
                           f"editable: {', '.join(EDITABLE)}")
    if "description" in fields:
        value = fields["description"]
        if value is not None and (not isinstance(value, str) or len(value) > MAX_DESCRIPTION):
            raise ChargerError(f"description must be a string of at most {MAX_DESCRIPTION} "
                               "characters, or null")
        charger.description = value
    for name in ("enabled", "lenient"):
        if name in fields:
            if not isinstance(fields[name], bool):
                raise ChargerError(f"{name} must be true or false")
            setattr(charger, name, fields[name])
    if charger.enabled and charger.decommissioned_at is not None:
        raise ChargerError(f"charger {charger.identity!r} is decommissioned: recommission it "
                           "to enable it", 409)
    if "ocpp_version_pin" in fields:
        # The only version the charger may negotiate, from its next connection on; null: the
        # server's preference among what it offers.
        value = fields["ocpp_version_pin"]
        names = runtime.ocpp_versions(current_app).names()
        if value is not None and value not in names:
            raise ChargerError("ocpp_version_pin must be one of " + ", ".join(names)
                               + ", or null")
        charger.ocpp_version_pin = value
    if "registration_status" in fields:
        value = fields["registration_status"]
        if value not in REGISTRATION_STATUSES:
            raise ChargerError("registration_status must be one of "
                               + ", ".join(REGISTRATION_STATUSES))
        charger.registration_status = value


def register(identity: Any, fields: dict[str, Any] | None = None) -> Charger:
    """Register a charger ahead of its first connection; ``fields`` as in ``EDITABLE``."""
    identity = check_identity(identity)
    existing = db.session.execute(select(Charger.decommissioned_at).where(
        Charger.identity == identity)).first()
    if existing:
        hint = " (decommissioned: recommission it)" if existing[0] is not None else ""
        raise ChargerError(f"charger {identity!r} already exists{hint}", 409)
    charger = Charger(identity=identity, enabled=True, registration_status="accepted",
                      lenient=False, auto_enrolled=False, created_at=utcnow())
    _apply(charger, fields or {})
    db.session.add(charger)
    db.session.commit()
    return charger


def update(identity: str, fields: dict[str, Any]) -> Charger:
    """Change the ``EDITABLE`` fields given; all or nothing.

    A live session follows at once: a disabled charger is disconnected, and a registration
    change is enforced on its open socket (a rejected charger is disconnected too).
    """
    charger = get(identity)
    was_registration = charger.registration_status
    try:
        _apply(charger, fields)
    except ChargerError:
        db.session.rollback()
        raise
    db.session.commit()
    if not charger.enabled:
        runtime.router(current_app).end_session(charger.identity, "charger disabled")
    elif charger.registration_status != was_registration:
        runtime.router(current_app).registration_changed(charger.identity,
                                                         charger.registration_status)
    return charger


def connector_to_dict(connector) -> dict[str, Any]:
    return {
        "evse_id": connector.evse_id,
        "connector_id": connector.connector_id,
        "status": connector.status,
        "error_code": connector.error_code,
        "info": connector.info,
        "status_timestamp": isoformat(connector.status_timestamp),
        "availability": connector.availability,
        "requested_availability": connector.requested_availability,
    }


def to_dict(charger: Charger) -> dict[str, Any]:
    return {
        "id": charger.identity,
        "connected": charger.connected,
        "ocpp_version": charger.ocpp_version,
        "ocpp_version_pin": charger.ocpp_version_pin,
        "vendor": charger.vendor,
        "model": charger.model,
        "serial_number": charger.serial_number,
        "firmware_version": charger.firmware_version,
        "last_heartbeat": isoformat(charger.last_heartbeat),
        "description": charger.description,
        "enabled": charger.enabled,
        "registration_status": charger.registration_status,
        "auto_enrolled": charger.auto_enrolled,
        "charge_box_serial_number": charger.charge_box_serial_number,
        "iccid": charger.iccid,
        "imsi": charger.imsi,
        "meter_type": charger.meter_type,
        "meter_serial_number": charger.meter_serial_number,
        "last_boot_reason": charger.last_boot_reason,
        "local_list_version": charger.local_list_version,
        "heartbeat_interval": charger.heartbeat_interval,
        "last_boot_at": isoformat(charger.last_boot_at),
        "connected_at": isoformat(charger.connected_at),
        "disconnected_at": isoformat(charger.disconnected_at),
        "lenient": charger.lenient,
        "created_at": isoformat(charger.created_at),
        "decommissioned_at": isoformat(charger.decommissioned_at),
        "connectors": [connector_to_dict(c)
                       for c in sorted(charger.connectors,
                                      key=lambda c: (c.evse_id or 0, c.connector_id))],
    }

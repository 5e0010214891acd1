"""The node's role and its features: which are on, from the role's defaults, the provisioned
list (``CONSTELLATION_FEATURES``) and an admin's switches (``node_features`` rows), in rising
order of precedence. Health checks of each feature live in ``app/node/health.py``.
"""
from __future__ import annotations

from typing import Any

from .errors import DomainError

# Every feature a node can offer, with what it is (shown on the node page).
FEATURES: dict[str, str] = {
    "rfid": "RFID reader: a card starts and stops a session on the node's charger",
    "lcd": "16x2 character LCD on I2C",
    "public_wifi": "public Wi-Fi access point with a captive portal",
    "ap_router": "access point router for the chargers on its subnet",
    "desktop_notifications": "desktop toasts for faults, sessions and unknown cards",
    "workers": "RQ queue workers (needs Redis)",
    "nginx": "NGINX in front of the app",
}

ROLES = ("terminal", "control", "satellite", "watchtower")

# The same lists as inventory/group_vars/<role>.yml (tests/test_node.py checks them).
ROLE_DEFAULTS: dict[str, tuple[str, ...]] = {
    "terminal": ("desktop_notifications",),
    "control": ("rfid", "lcd", "public_wifi", "desktop_notifications", "workers", "nginx"),
    "satellite": ("rfid", "ap_router", "workers", "nginx"),
    "watchtower": ("workers", "nginx"),
}


class FeatureError(DomainError):
    """A feature that does not exist, or a switch that cannot be made."""


def configured(config: Any) -> set[str]:
    """The features on before any admin switch: CONSTELLATION_FEATURES, else the role's."""
    listed = config.get("CONSTELLATION_FEATURES")
    if listed is not None:
        return set(listed)
    return set(ROLE_DEFAULTS[config.get("NODE_ROLE", "terminal")])


def switches() -> dict[str, Any]:
    """An admin's switches, by feature name (the ``NodeFeature`` rows)."""
    from sqlalchemy import select

    from ..extensions import db
    from ..models import NodeFeature

    return {row.name: row for row in db.session.execute(select(NodeFeature)).scalars()}


def states(config: Any) -> list[dict[str, Any]]:
    """Every feature: ``name``, ``description``, ``enabled``, ``default`` (without a switch),
    ``switched_by``/``switched_at`` (the admin's switch, if any)."""
    from ..models.base import isoformat

    defaults, rows = configured(config), switches()
    out = []
    for name, description in FEATURES.items():
        row = rows.get(name)
        out.append({"name": name, "description": description,
                    "enabled": row.enabled if row is not None else name in defaults,
                    "default": name in defaults,
                    "switched_by": row.changed_by if row is not None else None,
                    "switched_at": isoformat(row.changed_at) if row is not None else None})
    return out


def is_enabled(config: Any, name: str) -> bool:
    return next(f["enabled"] for f in states(config) if f["name"] == name)


def switch(name: str, enabled: bool | None, user: str) -> None:
    """Switch feature ``name`` on or off for this node; ``None`` goes back to the default."""
    from ..extensions import db
    from ..models import NodeFeature, utcnow

    if name not in FEATURES:
        raise FeatureError(f"no feature {name!r}; one of: {', '.join(FEATURES)}", 404)
    row = db.session.get(NodeFeature, name)
    if enabled is None:
        if row is not None:
            db.session.delete(row)
    elif row is None:
        db.session.add(NodeFeature(name=name, enabled=enabled, changed_by=user,
                                   changed_at=utcnow()))
    else:
        row.enabled, row.changed_by, row.changed_at = enabled, user, utcnow()
    db.session.commit()

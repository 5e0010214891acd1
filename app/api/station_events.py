"""Read endpoints for what stations report on their own: security events (all chargers, or
one), a charger's device events (2.x NotifyEvent), newest first, and the display messages on
its station (set by SetDisplayMessage or found by GetDisplayMessages)."""
from __future__ import annotations

from flask import request

from ..services import security_events
from ..services import station_notifications as notes
from . import bp
from .args import bool_arg, charger_id_arg, charger_or_404
from .util import paginate


@bp.get("/security-events")
def list_security_events():
    stmt = security_events.query(charger_id_arg(), request.args.get("source") or None,
                                 request.args.get("type") or None)
    return paginate(stmt, security_events.to_dict)


@bp.get("/chargers/<path:identity>/events")
def charger_events(identity: str):
    charger = charger_or_404(identity)
    return paginate(notes.events_query(charger.id, bool_arg("problem")), notes.event_to_dict)


@bp.get("/chargers/<path:identity>/display-messages")
def charger_display_messages(identity: str):
    charger = charger_or_404(identity)
    return paginate(notes.display_messages_query(charger.id, bool_arg("cleared")),
                    notes.display_message_to_dict)

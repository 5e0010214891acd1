"""Public status pages: ``/status/<identity>`` shows connector availability and nothing else.

Off unless ``PUBLIC_STATUS_PAGES=true``; then every charger has one (a per-charger opt-in
needs a column the schema does not have yet). No token, transaction, person or power is shown.
"""
from __future__ import annotations

from flask import abort, current_app, render_template
from sqlalchemy import select

from ..extensions import db
from ..models import Charger
from . import public_bp

# What a passer-by needs to know, in words; faults and vendor details stay private.
AVAILABILITY = {
    "Available": "Available",
    "Preparing": "In use", "Charging": "In use", "SuspendedEV": "In use",
    "SuspendedEVSE": "In use", "Finishing": "In use",
    "Reserved": "Reserved",
}


@public_bp.get("/status/<path:identity>")
def status_page(identity: str):
    if not current_app.config.get("PUBLIC_STATUS_PAGES"):
        abort(404)
    charger = db.session.execute(select(Charger).where(Charger.identity == identity,
                                                       Charger.enabled.is_(True))
                                 ).scalar_one_or_none()
    if charger is None:
        abort(404)
    connectors = [(c.connector_id,
                   AVAILABILITY.get(c.status or "", "Out of service") if charger.connected
                   else "Out of service")
                  for c in charger.connectors if c.connector_id != 0]
    return render_template("console/public_status.html", identity=charger.identity,
                           connectors=connectors)

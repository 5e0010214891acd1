"""The RFID reader's scan history (``GET /rfid/scans``)."""
from __future__ import annotations

from flask import request

from ..services import rfid
from . import bp
from .util import paginate


@bp.get("/rfid/scans")
def list_rfid_scans():
    return paginate(rfid.query(uid=request.args.get("uid"), result=request.args.get("result")),
                    rfid.to_dict)

"""``/api/v1/chargers/<identity>/variables`` and ``/reports``: a 2.x charger's device model as
its NotifyReports, GetVariables and SetVariables left it."""
from __future__ import annotations

from flask import request
from sqlalchemy.orm import selectinload

from ..models import DeviceVariable
from ..services import device_model
from . import bp
from .args import charger_or_404
from .util import paginate


@bp.get("/chargers/<path:identity>/variables")
def charger_variables(identity: str):
    charger = charger_or_404(identity)
    stmt = device_model.variables(
        charger.id, component=request.args.get("component") or None,
        variable=request.args.get("variable") or None, q=request.args.get("q") or None,
    ).options(selectinload(DeviceVariable.attributes))
    return paginate(stmt, device_model.variable_to_dict)


@bp.get("/chargers/<path:identity>/reports")
def charger_reports(identity: str):
    charger = charger_or_404(identity)
    return paginate(device_model.reports(charger.id), device_model.report_to_dict)

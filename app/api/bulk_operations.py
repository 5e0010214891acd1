"""``/api/v1/bulk-operations``: one version-neutral operation on many chargers, run as a
background job with per-charger results, progress and cancellation
(``services/bulk_operations.py``)."""
from __future__ import annotations

from flask import g, request

from ..models.bulk import RESULT_STATUSES
from ..services import bulk_operations as bulk_service
from . import bp
from .auth import can_write
from .errors import ApiError
from .util import json_body, paginate


@bp.post("/bulk-operations")
@can_write
def create_bulk_operation():
    body = json_body()
    if "operation" not in body or not isinstance(body["operation"], str):
        raise ApiError(400, "operation (the name of a version-neutral operation) is required")
    unknown = sorted(set(body) - {"operation", "args", "chargers", "filter", "max_in_flight"})
    if unknown:
        raise ApiError(400, f"unknown field {', '.join(unknown)}")
    if ("chargers" in body) == ("filter" in body):
        raise ApiError(400, "give chargers (a list of identities) or filter (an object)")
    selection = {k: body[k] for k in ("chargers", "filter") if k in body}
    bulk = bulk_service.create(body["operation"], body.get("args"), selection,
                               max_in_flight=body.get("max_in_flight"),
                               requested_by=g.api_user.name, source="api")
    bulk_service.start(bulk)
    return bulk_service.to_dict(bulk), 202


@bp.get("/bulk-operations")
def list_bulk_operations():
    return paginate(bulk_service.list_query(), bulk_service.to_dict)


@bp.get("/bulk-operations/<int:bulk_id>")
def get_bulk_operation(bulk_id: int):
    return bulk_service.to_dict(bulk_service.get(bulk_id))


@bp.get("/bulk-operations/<int:bulk_id>/results")
def bulk_operation_results(bulk_id: int):
    bulk_service.get(bulk_id)
    status = request.args.get("status") or None
    if status is not None and status not in RESULT_STATUSES:
        raise ApiError(400, f"status must be one of {', '.join(RESULT_STATUSES)}")
    return paginate(bulk_service.results_query(bulk_id, status), bulk_service.result_to_dict)


@bp.post("/bulk-operations/<int:bulk_id>/cancel")
@can_write
def cancel_bulk_operation(bulk_id: int):
    return bulk_service.to_dict(bulk_service.cancel(bulk_id))

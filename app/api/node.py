"""This node: its role, version, features with their health, interfaces and services
(``GET /node``), and an admin's feature switch (``PUT /node/features/<name>``)."""
from __future__ import annotations

from flask import current_app, g, request

from ..node import status
from ..services import node_features
from . import bp
from .auth import require_role


@bp.get("/node")
def get_node():
    return status.node(current_app)


@bp.put("/node/features/<name>")
@require_role("admin")
def switch_feature(name: str):
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or "enabled" not in body or (
            body["enabled"] is not None and not isinstance(body["enabled"], bool)):
        raise node_features.FeatureError(
            "send {\"enabled\": true}, false, or null (back to the role's default)")
    node_features.switch(name, body["enabled"], g.api_user.name)
    return status.node(current_app)

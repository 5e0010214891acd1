"""Users (admin only) and the API page, through ``services.users``."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..models import User
from ..models.user import ROLES
from ..services import users as user_service
from . import admin_only, bp


@bp.route("/users", methods=["GET", "POST"])
@admin_only
def users():
    errors: dict[str, str] = {}
    values = {"name": request.form.get("name", ""), "role": request.form.get("role", "viewer")}
    if request.method == "POST":
        try:
            user_service.create_user(values["name"].strip(), request.form.get("password", ""),
                                     values["role"])
        except user_service.UserError as exc:
            message = str(exc)
            field = next((f for f in ("name", "password", "role") if message.startswith(f)
                          or f"user {values['name']!r}" in message and f == "name"), "name")
            errors[field] = message[:1].upper() + message[1:] + "."
        else:
            flash(f"Created {values['role']} {values['name']}.")
            return redirect(url_for("console.users"))
    rows = list(db.session.execute(select(User).order_by(User.name)).scalars())
    return render_template("console/users.html", users=rows, roles=ROLES, errors=errors,
                           values=values), (422 if errors else 200)


@bp.post("/users/<int:user_id>")
@admin_only
def user_update(user_id: int):
    user = db.session.get(User, user_id)
    if user is None:
        abort(404, description=f"There is no user {user_id}.")
    if user.id == current_user.id:
        flash("You cannot change your own role or disable yourself here.", "error")
        return redirect(url_for("console.users"))
    try:
        if "role" in request.form:
            user_service.set_role(user, request.form["role"])
        if "active" in request.form:
            user_service.set_active(user, request.form["active"] == "1")
    except user_service.UserError as exc:
        flash(str(exc), "error")
    else:
        flash(f"{user.name} is now {'an active' if user.active else 'a disabled'} {user.role}.")
    return redirect(url_for("console.users"))


@bp.get("/api")
def api_docs():
    """The REST API's OpenAPI document, readable inside the console."""
    spec = None
    docs_url = None
    if "api.openapi_json" in current_app.view_functions:
        try:
            spec = current_app.view_functions["api.openapi_json"]()
            if hasattr(spec, "get_json"):
                spec = spec.get_json()
        except Exception:  # noqa: BLE001 - the page still links to the raw document
            spec = None
    if "api.openapi_docs" in current_app.view_functions:
        docs_url = url_for("api.openapi_docs")
    operations = []
    if isinstance(spec, dict):
        for path, methods in sorted((spec.get("paths") or {}).items()):
            for method, op in methods.items():
                if method in ("get", "post", "put", "patch", "delete"):
                    operations.append({"method": method.upper(), "path": path,
                                       "summary": op.get("summary", ""),
                                       "description": op.get("description", ""),
                                       "tag": (op.get("tags") or [""])[0]})
    return render_template("console/api.html", spec=spec, operations=operations,
                           docs_url=docs_url)

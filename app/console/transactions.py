"""Transactions: a filtered list (charger, token, period, state), its CSV export, and a detail
page with power and energy over the session drawn from the stored meter values.
"""
from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.sql import Select

from .. import csvexport
from ..extensions import db
from ..models import Charger, Transaction
from ..params import page_arg
from ..services import operator_actions
from ..services import transactions_query as tx_query
from . import bp, can_write, chart, queries

PER_PAGE = 50


def _day(raw: str | None, label: str, errors: dict[str, str]) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[label] = "Enter a date as YYYY-MM-DD."
        return None


def filtered() -> tuple[Select | None, dict[str, str], dict[str, str]]:
    """The transactions query for the request's filters, the filters, and errors by field."""
    args = {k: (request.args.get(k) or "").strip()
            for k in ("charger", "id_tag", "since", "until", "state")}
    errors: dict[str, str] = {}
    charger_id = None
    if args["charger"]:
        charger_id = db.session.execute(select(Charger.id).where(
            Charger.identity == args["charger"])).scalar_one_or_none()
        if charger_id is None:
            errors["charger"] = f"There is no charger {args['charger']!r}."
    since = _day(args["since"], "since", errors)
    until = _day(args["until"], "until", errors)
    if args["state"] and args["state"] not in tx_query.STATES:
        errors["state"] = "Choose active or stopped."
    if errors:
        return None, args, errors
    stmt = tx_query.query(
        charger_id=charger_id, state=args["state"] or None, id_tag=args["id_tag"] or None,
        since=datetime.combine(since, time(), UTC) if since else None,
        # The whole "until" day is included; the last day there is has no end to bound.
        until=datetime.combine(until + timedelta(days=1), time(), UTC)
        if until and until < date.max else None)
    return stmt, args, errors


def _identities(rows: list[Transaction]) -> dict[int, str]:
    ids = {tx.charger_id for tx in rows}
    return dict(db.session.execute(select(Charger.id, Charger.identity)
                                   .where(Charger.id.in_(ids))).all()) if ids else {}


@bp.get("/transactions")
def transactions():
    stmt, args, errors = filtered()
    page = page_arg(request.args)
    rows: list[Transaction] = []
    total = 0
    if stmt is not None:
        total = db.session.execute(select(func.count()).select_from(
            stmt.order_by(None).subquery())).scalar_one()
        rows = list(db.session.execute(stmt.limit(PER_PAGE).offset((page - 1) * PER_PAGE)
                                       ).scalars())
    return render_template("console/transactions.html", rows=rows, args=args, errors=errors,
                           total=total, page=page, pages=max(1, -(-total // PER_PAGE)),
                           identities=_identities(rows), so_far=tx_query.energy_so_far(rows),
                           query={k: v for k, v in args.items() if v}), (400 if errors else 200)


# The API's representation of a transaction, one column per field.
CSV_COLUMNS = ("id", "charger", "connector_id", "id_tag", "state", "started_at", "stopped_at",
               "meter_start", "meter_stop", "energy_wh", "stop_reason", "reservation_id",
               "unmatched_stop", "reported_transaction_id",
               # OCPP 2.x (empty for 1.6)
               "evse_id", "charger_transaction_id", "stopped_reason", "remote_start_id")


@bp.get("/transactions.csv")
def transactions_csv():
    stmt, args, errors = filtered()
    if stmt is None:
        abort(400, description=" ".join(errors.values()))
    def generate():
        out = io.StringIO()
        writer = csvexport.writer(out)
        writer.writerow(CSV_COLUMNS)
        # Streamed in slices so a year of transactions never sits in memory at once.
        # Each slice's running transactions get their energy so far in one query (to_dicts).
        slices = db.session.execute(stmt.execution_options(yield_per=500)).scalars().partitions()
        for part in slices:
            for row in tx_query.to_dicts(part):
                writer.writerow([row[c] for c in CSV_COLUMNS])
                if out.tell() > 64 * 1024:
                    yield out.getvalue()
                    out.seek(0)
                    out.truncate()
        yield out.getvalue()

    name = f"transactions-{datetime.now(UTC):%Y%m%d-%H%M%S}.csv"
    return Response(stream_with_context(generate()), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/transactions/<int:transaction_id>")
def transaction(transaction_id: int):
    tx = tx_query.get(transaction_id)
    if tx is None:
        abort(404, description=f"There is no transaction {transaction_id}.")
    charger = db.session.get(Charger, tx.charger_id)
    data = queries.series(tx.id)
    values = tx_query.meter_values(tx.id)
    return render_template(
        "console/transaction.html", tx=tx, charger=charger, values=values,
        so_far=tx_query.energy_so_far([tx]).get(tx.id),
        power_chart=chart.line_chart(data["power"], title="Power over the session", unit="W",
                                     css_class="power"),
        energy_chart=chart.line_chart(data["energy"], title="Energy delivered over the session",
                                      unit="Wh", css_class="energy"),
        points=data)


@bp.post("/transactions/<int:transaction_id>/close")
@can_write
def transaction_close(transaction_id: int):
    """Close a transaction whose StopTransaction will never come (recorded in the audit)."""
    raw = (request.form.get("meter_stop") or "").strip()
    meter_stop: int | str | None = None
    if raw:
        meter_stop = int(raw) if raw.isdigit() else raw  # the service explains what is wrong
    try:
        tx = operator_actions.close_transaction(
            transaction_id, meter_stop=meter_stop,
            reason=(request.form.get("reason") or "").strip() or None,
            actor=current_user.name, source="console")
    except operator_actions.ActionError as exc:
        if exc.status == 404:
            abort(404, description=exc.message[:1].upper() + exc.message[1:] + ".")
        flash(f"Transaction not closed: {exc.message}.", "error")
    else:
        flash(f"Transaction #{tx.id} closed ({tx.stop_reason}).")
    return redirect(url_for("console.transaction", transaction_id=transaction_id))

"""Tokens (OCPP id tags): list, create, edit, block, expire, delete; CSV import with a report of
the rejected rows and why, CSV export; publish the accepted tokens as the local list to chosen
chargers. Every change goes through ``services.tokens``, as the API's do.
"""
from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from .. import csvexport, runtime
from ..extensions import db
from ..models import Charger, IdToken, utcnow
from ..models.base import isoformat
from ..models.token import TOKEN_STATUSES
from ..services import command_effects
from ..services import tokens as token_service
from . import bp, can_write
from .operations import flash_many, send_to_many

CSV_COLUMNS = ("id_tag", "status", "expiry_date", "parent_id_tag", "note")
MAX_IMPORT_ROWS = 10_000
# Rows per transaction of an import: each is one unit of the group writer, short enough that
# chargers' commits are never queued behind it for long.
IMPORT_BATCH = 250
YIELD_EVERY = 50
log = logging.getLogger(__name__)


# The service names fields as the API spells them; a person reads words.
_FIELD_WORDS = (("parent_id_tag", "the parent id tag"), ("id_tag", "the id tag"),
                ("expiry_date", "the expiry date"), ("status", "the status"),
                ("note", "the note"))


def _sentence(message: str) -> str:
    message = message.strip()
    for name, words in _FIELD_WORDS:
        if message.startswith(name + " "):
            message = words + message[len(name):]
            break
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def _fields(form: Any) -> dict[str, Any]:
    """The editable fields from a form; empty inputs mean "none"."""
    expiry = (form.get("expiry_date") or "").strip()
    if expiry and len(expiry) == 16:  # datetime-local gives minutes only, in UTC here
        expiry += ":00"
    return {
        "status": form.get("status") or "Accepted",
        "expiry_date": (expiry + "+00:00" if expiry and "+" not in expiry
                        and not expiry.endswith("Z") else expiry) or None,
        "parent_id_tag": (form.get("parent_id_tag") or "").strip() or None,
        "note": (form.get("note") or "").strip() or None,
    }


def _listing(errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
             report: dict[str, Any] | None = None, status: int = 200):
    status_filter = request.args.get("status") or None
    q = request.args.get("q") or None
    try:
        stmt = token_service.query(status=status_filter, q=q)
    except token_service.TokenError as exc:
        flash(_sentence(exc.message), "error")
        stmt = token_service.query()
    rows = list(db.session.execute(stmt.limit(500)).scalars())
    chargers = list(db.session.execute(select(Charger).where(Charger.session_owner.is_not(None))
                                       .order_by(Charger.identity)).scalars())
    return render_template("console/tokens.html", tokens=rows, statuses=TOKEN_STATUSES,
                           status_filter=status_filter or "", q=q or "", errors=errors or {},
                           values=values or {}, report=report, chargers=chargers), status


@bp.get("/tokens")
def tokens():
    return _listing()


@bp.post("/tokens")
@can_write
def token_create():
    values = {k: request.form.get(k, "") for k in ("id_tag", *CSV_COLUMNS[1:])}
    try:
        token_service.create(values["id_tag"].strip(), _fields(request.form))
    except token_service.TokenError as exc:
        field = next((f for f in CSV_COLUMNS if exc.message.startswith(f)), "id_tag")
        return _listing(errors={field: _sentence(exc.message)}, values=values, status=422)
    flash(f"Token {values['id_tag'].strip()} created.")
    return redirect(url_for("console.tokens"))


@bp.route("/tokens/edit", methods=["GET", "POST"])
def token_edit():
    id_tag = request.values.get("id_tag", "")
    try:
        token = token_service.get(id_tag)
    except token_service.TokenError as exc:
        flash(_sentence(exc.message), "error")
        return redirect(url_for("console.tokens"))
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            token_service.update(id_tag, _fields(request.form))
        except token_service.TokenError as exc:
            field = next((f for f in CSV_COLUMNS if exc.message.startswith(f)), "status")
            errors[field] = _sentence(exc.message)
        else:
            flash(f"Token {id_tag} saved.")
            return redirect(url_for("console.tokens"))
    return render_template("console/token_edit.html", token=token, statuses=TOKEN_STATUSES,
                           errors=errors), (422 if errors else 200)


@bp.post("/tokens/action")
@can_write
def token_action():
    """Block, expire or delete one token (buttons on the list)."""
    id_tag = request.form.get("id_tag", "")
    action = request.form.get("action")
    try:
        if action == "block":
            token_service.update(id_tag, {"status": "Blocked"})
            flash(f"Token {id_tag} is blocked.")
        elif action == "expire":
            token_service.update(id_tag, {"status": "Expired", "expiry_date": utcnow()})
            flash(f"Token {id_tag} has expired now.")
        elif action == "delete":
            token_service.delete(id_tag)
            flash(f"Token {id_tag} deleted.")
        else:
            flash("Unknown action.", "error")
    except token_service.TokenError as exc:
        flash(_sentence(exc.message), "error")
    return redirect(url_for("console.tokens"))


@bp.get("/tokens.csv")
def tokens_csv():
    out = io.StringIO()
    writer = csvexport.writer(out)
    writer.writerow(CSV_COLUMNS)
    for t in db.session.execute(select(IdToken).order_by(IdToken.id_tag)).scalars():
        writer.writerow([t.id_tag, t.status, isoformat(t.expiry_date) or "",
                         t.parent_id_tag or "", t.note or ""])
    name = f"tokens-{datetime.now(UTC):%Y%m%d-%H%M%S}.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _pause() -> None:
    try:
        import gevent
    except ImportError:  # pragma: no cover - gevent is a runtime dependency
        return
    gevent.sleep(0)


def import_csv(text: str, store: Callable[[list[tuple[str, dict[str, Any]]]], list[bool]]
               ) -> dict[str, Any]:
    """Create or update a token per CSV row; each row stands alone, a bad one is reported.

    Rows are checked here and handed to ``store`` (the group writer running
    ``token_service.import_batch``) ``IMPORT_BATCH`` at a time: the database work runs off the
    event loop in short transactions, so chargers keep being served during a long import.
    """
    report: dict[str, Any] = {"created": [], "updated": [], "rejected": []}
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if "id_tag" not in header:
        report["rejected"].append({"line": 1, "id_tag": "", "reason":
                                   "The first line must name the columns, with at least id_tag "
                                   f"(known: {', '.join(CSV_COLUMNS)})."})
        return report
    unknown = sorted(set(header) - set(CSV_COLUMNS))
    if unknown:
        report["rejected"].append({"line": 1, "id_tag": "", "reason":
                                   f"Unknown columns ignored: {', '.join(unknown)}."})
    batch: list[tuple[str, dict[str, Any]]] = []
    lines: list[int] = []

    def flush() -> None:
        if not batch:
            return
        try:
            created = store(batch)
        except Exception as exc:  # noqa: BLE001 - e.g. a tag created meanwhile elsewhere
            log.warning("token import batch failed: %s", exc)
            report["rejected"].extend(
                {"line": line, "id_tag": tag, "reason": "Could not be stored "
                 "(another change to the same tokens at the same time?); import it again."}
                for line, (tag, _) in zip(lines, batch, strict=True))
        else:
            for (tag, _), new in zip(batch, created, strict=True):
                report["created" if new else "updated"].append(tag)
        batch.clear()
        lines.clear()

    for number, row in enumerate(reader, start=2):
        if number > MAX_IMPORT_ROWS + 1:
            report["rejected"].append({"line": number, "id_tag": "", "reason":
                                       f"Only {MAX_IMPORT_ROWS} rows are read per import."})
            break
        if number % YIELD_EVERY == 0:
            _pause()  # checking rows is Python work in the event loop: let chargers through
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items() if k}
        id_tag = row.get("id_tag", "")
        fields = {k: (row.get(k) or None) for k in CSV_COLUMNS[1:] if k in header}
        if "status" in fields and fields["status"] is None:
            fields["status"] = "Accepted"
        try:
            batch.append((token_service.check_id_tag(id_tag),
                          token_service.column_values(fields)))
        except token_service.TokenError as exc:
            report["rejected"].append({"line": number, "id_tag": id_tag,
                                       "reason": _sentence(exc.message)})
            continue
        lines.append(number)
        if len(batch) >= IMPORT_BATCH:
            flush()
    flush()
    report["rejected"].sort(key=lambda r: r["line"])
    return report


@bp.post("/tokens/import")
@can_write
def tokens_import():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _listing(errors={"file": "Choose a CSV file to import."}, status=422)
    try:
        text = upload.stream.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        return _listing(errors={"file": "The file is not UTF-8 text; save it as CSV (UTF-8)."},
                        status=422)
    # The import writes through the group writer; this request holds no transaction meanwhile.
    db.session.commit()
    writer = runtime.writer(current_app._get_current_object())
    report = import_csv(text, lambda rows: writer.run(token_service.import_batch, rows))
    return _listing(report=report)


@bp.post("/tokens/publish")
@can_write
def tokens_publish():
    targets = request.form.getlist("chargers")
    if not targets:
        flash("Choose at least one charger to publish the local list to.", "error")
        return redirect(url_for("console.tokens"))
    entries = command_effects.token_list_entries(accepted_only=True)
    sent, refused = send_to_many(targets, "SendLocalList",
                                 {"updateType": "Full", "localAuthorizationList": entries})
    flash_many(f"SendLocalList ({len(entries)} accepted tokens)", sent, refused)
    return redirect(url_for("console.tokens"))

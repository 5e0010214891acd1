"""The OCPP-J endpoint: ``ws://HOST:PORT/<prefix>/<identity>``.

The HTTP handshake is checked before the upgrade (simple-websocket completes the upgrade before
the route runs): a request that is no RFC 6455 upgrade gets 400 (426 for another websocket
version), an identity the API would refuse or an unknown charger the policy does not enrol gets
404, a disabled one 404 too. The same check negotiates the OCPP version
(``VersionRegistry.negotiate``: the server's preference 2.1 > 2.0.1 > 1.6 among the offered
names, or only the version an operator pinned the charger to) and leaves it in ``flask.g``;
simple-websocket, which picks a subprotocol itself in the client's order, is handed a stand-in
(``_Negotiated``) that accepts only that choice. A charger offering none we speak is accepted
without a subprotocol and closed at once (1002). The version belongs to the connection: a
charger's next connection negotiates afresh. An unknown charger is enrolled only after all of
that, once it is really connected: refused and malformed handshakes leave no trace in the
charger list.

Before the database is asked anything, admission control (``admission.py``) may turn a
well-formed handshake away with 503 and ``Retry-After`` while the group writer is far behind or
too many admitted chargers still wait for their first answer; an admitted one counts as
pending until its first message is answered. Nothing on the handshake waits for a commit that
the charger's replies do not need: the connected mark is queued in the writer (committed with,
or before, the first unit a reply waits for, the BootNotification's say), and only an unknown
charger's enrolment, whose id the connection needs, is waited for.

flask-sock's route serves the endpoint, but a plain connection under gunicorn (no
``Sec-WebSocket-Extensions`` offered) is answered ``101`` here, from the headers gunicorn
already parsed: simple-websocket would rebuild the request and parse it again with h11 and
wsproto, a third of the server's CPU in a reconnect storm (docs/performance.md). A charger
offering an extension (permessage-deflate) still goes through simple-websocket and wsproto,
which negotiate it.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import logging
from datetime import UTC, datetime
from functools import partial
from urllib.parse import unquote

from flask import Blueprint, Flask, Response, abort, current_app, g, has_request_context, request
from flask.sessions import SessionInterface
from sqlalchemy import bindparam, select
from sqlalchemy.engine import Engine

from .. import gcpolicy, runtime
from ..extensions import db, sock
from ..models import Charger
from ..ocpp import versions
from ..ocpp.context import ChargerContext
from ..ocpp.session import OcppSession
from ..services import chargers, stations
from .admission import Refused
from .connection import ChargerConnection
from .driver import WebSocket
from .framing import PlainFrames, WsprotoFrames, release
from .registry import start_keepalive

log = logging.getLogger(__name__)

WEBSOCKET_VERSION = "13"
_chargers = Charger.__table__
_LOOKUP = select(_chargers.c.id, _chargers.c.enabled, _chargers.c.lenient,
                 _chargers.c.registration_status, _chargers.c.ocpp_version_pin,
                 _chargers.c.session_owner).where(
    _chargers.c.identity == bindparam("identity"))
_LOOKUP_SQL: dict[str, tuple[str, bool]] = {}  # dialect name -> (SQL, positional parameters)


def init_app(app: Flask) -> None:
    prefix = app.config["OCPP_PATH_PREFIX"].rstrip("/")
    app.config.setdefault("SOCK_SERVER_OPTIONS", {}).update({
        "subprotocols": _Negotiated(runtime.ocpp_versions(app).subprotocols()),
        "max_message_size": app.config["OCPP_MAX_FRAME_BYTES"],
        # Pings are sent by ChargerConnection, which tolerates chargers that never answer them.
        "ping_interval": None,
        # The route reads its socket itself (driver.WebSocket): no reader thread per connection.
        "thread_class": _NoReaderThread,
    })
    bp = Blueprint("ocpp", __name__)
    sock.route(f"{prefix}/<path:rest>", bp=bp)(ocpp_socket)
    bp.record_once(_take_plain_connections)
    # A charger has no cookie session: opening one (a signing serializer per request) was 4 %
    # of a reconnect storm's CPU.
    app.session_interface = _NoSessionUnder(prefix, app.session_interface)
    bp.before_app_request(_check_handshake)
    bp.teardown_app_request(_release_ticket)
    app.register_blueprint(bp)


class _Negotiated:
    """Stands in for simple-websocket's list of subprotocols (``SOCK_SERVER_OPTIONS``).

    simple-websocket answers with the first name the charger offered that is ``in`` this list:
    the charger's order would win. Membership defers to the name ``_check_handshake`` negotiated
    for this request, so the server's preference and the operator's pin decide.
    """

    def __init__(self, names: list[str]) -> None:
        self._names = names

    def __contains__(self, name: object) -> bool:
        chosen = g.get("ocpp_negotiated") if has_request_context() else None
        return chosen is not None and name == chosen.subprotocol

    def __iter__(self):
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


class _NoSessionUnder(SessionInterface):
    """The app's session interface, except a null session for the OCPP endpoint's requests."""

    def __init__(self, prefix: str, inner: SessionInterface) -> None:
        self._prefix = prefix + "/"
        self._inner = inner

    def open_session(self, app, request):
        if (request.path + "/").startswith(self._prefix):
            return self.make_null_session(app)  # Flask saves no null session
        return self._inner.open_session(app, request)

    def save_session(self, app, session, response) -> None:
        self._inner.save_session(app, session, response)

    def __getattr__(self, name: str):
        return getattr(self._inner, name)


class _NoReaderThread:
    """Stands in for the reader thread simple-websocket would start after the handshake."""

    name = "ocpp-route-reads"

    def __init__(self, target=None, **kwargs) -> None:
        pass

    def start(self) -> None:
        pass


def _driver_for(ws) -> WebSocket:
    """Take the socket over from simple-websocket once its handshake is done."""
    ws.connected = False  # flask-sock's closing call after the route must not touch it
    limit = current_app.config["OCPP_MAX_FRAME_BYTES"]
    write_timeout = current_app.config["OCPP_WRITE_TIMEOUT"]
    if request.headers.get("Sec-WebSocket-Extensions"):
        # An extension may have been agreed (permessage-deflate): wsproto's framing keeps it.
        return WebSocket(ws.sock, WsprotoFrames(ws.ws, limit), write_timeout=write_timeout)
    return WebSocket(ws.sock, PlainFrames(limit), write_timeout=write_timeout)


def _identity_from_request(prefix: str) -> str | None:
    """The one path segment after the prefix, percent-decoded; None if the path has another."""
    # The raw URI keeps %2F and friends encoded: a decoded '/' is part of the identity (and
    # refused by check_identity), a raw one is a path the endpoint does not serve.
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or request.path
    path = raw.split("?", 1)[0]
    if not path.startswith(prefix + "/"):
        return None
    segment = path[len(prefix) + 1:]
    if not segment or "/" in segment:
        return None
    try:
        return chargers.check_identity(unquote(segment, errors="strict"))
    except (chargers.ChargerError, UnicodeDecodeError):
        return None


def _handshake_error() -> Response | None:
    """Why this request is no RFC 6455 upgrade (section 4.2.1), as the response to send."""
    if request.headers.get("Upgrade", "").lower() != "websocket":
        return _plain(400, "OCPP endpoint: websocket upgrade expected")
    connection = {token.strip().lower()
                  for token in request.headers.get("Connection", "").split(",")}
    if "upgrade" not in connection:
        return _plain(400, "OCPP endpoint: Connection: Upgrade expected")
    version = request.headers.get("Sec-WebSocket-Version", "").strip()
    if version != WEBSOCKET_VERSION:
        # 4.4: name the versions we speak.
        return _plain(426 if version else 400,
                      f"Sec-WebSocket-Version {WEBSOCKET_VERSION} is required",
                      {"Sec-WebSocket-Version": WEBSOCKET_VERSION})
    try:
        key = base64.b64decode(request.headers.get("Sec-WebSocket-Key", ""), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 16:
        return _plain(400, "Sec-WebSocket-Key must be 16 bytes in base64")
    return None


def _plain(status: int, text: str, headers: dict[str, str] | None = None) -> Response:
    return Response(text + "\n", status, headers, mimetype="text/plain")


def _check_handshake():
    prefix = current_app.config["OCPP_PATH_PREFIX"].rstrip("/")
    if not (request.path + "/").startswith(prefix + "/"):
        return None
    error = _handshake_error()
    if error is not None:
        return error
    identity = _identity_from_request(prefix)
    if identity is None:
        abort(404)
    decision = runtime.admission(current_app).admit()
    if isinstance(decision, Refused):
        # Before the lookup: a refusal costs no database work.
        return _plain(503, "CSMS busy: retry later",
                      {"Retry-After": str(decision.retry_after)})
    g.ocpp_ticket = decision
    row = _lookup(db.engine, identity)
    if row is None:
        policy = current_app.config["OCPP_UNKNOWN_CHARGERS"]
        if policy == "reject":
            log.info("refused unknown charger %r", identity)
            abort(404)
        # Enrolled in the route, once the upgrade and the version check have succeeded.
        g.ocpp_charger = (None, identity, False, "accepted" if policy == "accept" else "pending",
                          None)
        g.ocpp_negotiated = _negotiate(None)
        return None
    charger_id, enabled, lenient, registration, pin, previous_owner = row
    if not enabled:
        log.info("refused disabled charger %r", identity)
        abort(404)
    g.ocpp_charger = (charger_id, identity, lenient, registration, previous_owner)
    g.ocpp_negotiated = _negotiate(pin)
    return None


def _lookup(engine: Engine, identity: str) -> tuple | None:
    """The charger's row for the handshake, on the driver itself.

    The statement is compiled once per dialect: SQLAlchemy's execution context (parameters,
    result processing) was 15 % of the server's CPU in a reconnect storm, the ORM session
    before it a third (docs/performance.md). The pool's checkout and its rollback on return
    are kept.
    """
    compiled = _LOOKUP_SQL.get(engine.dialect.name)
    if compiled is None:
        built = _LOOKUP.compile(dialect=engine.dialect)
        compiled = _LOOKUP_SQL[engine.dialect.name] = (built.string, built.positional)
    sql, positional = compiled
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        try:
            cursor.execute(sql, (identity,) if positional else {"identity": identity})
            row = cursor.fetchone()
        finally:
            cursor.close()
    finally:
        raw.close()
    if row is None:
        return None
    charger_id, enabled, lenient, registration, pin, owner = row
    return charger_id, bool(enabled), bool(lenient), registration, pin, owner


def _release_ticket(exc: BaseException | None = None) -> None:
    """A handshake that never reached its first answer (refused after admission, failed
    upgrade, closed early) stops counting as pending."""
    ticket = g.pop("ocpp_ticket", None)
    if ticket is not None:
        ticket.release()


def _negotiate(pin: str | None) -> versions.Negotiated | None:
    """This connection's version: None when the charger offered none we speak (or none of its
    pin). A charger that offers no subprotocol at all speaks ``OCPP_NO_SUBPROTOCOL_VERSION``."""
    known = runtime.ocpp_versions(current_app)
    offered = versions.parse_subprotocols(request.headers.get("Sec-WebSocket-Protocol"))
    if offered:
        return known.negotiate(offered, pin)
    fallback = known.get(current_app.config["OCPP_NO_SUBPROTOCOL_VERSION"])
    if fallback is None or (pin and pin != fallback.name):
        return None
    # No name to echo: the handshake answers without Sec-WebSocket-Protocol.
    return versions.Negotiated(fallback, "")


def ocpp_socket(ws, rest: str) -> None:
    """flask-sock's route: serve the connection, then free what a closed one must not keep."""
    try:
        _serve(_driver_for(ws))
    finally:
        # wsproto's frame parser is a reference cycle holding permessage-deflate's zlib
        # streams; freed now, not at a full collection (docs/performance.md, "Connection churn").
        release(ws.ws)


_ACCEPT_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3


def _take_plain_connections(state) -> None:
    """Put ``_plain_or`` in front of flask-sock's view once the blueprint is registered."""
    endpoint = "ocpp.ocpp_socket"
    state.app.view_functions[endpoint] = _plain_or(state.app.view_functions[endpoint])


def _plain_or(flask_sock_view):
    def view(rest: str):
        sock = request.environ.get("gunicorn.socket")
        if sock is None or request.headers.get("Sec-WebSocket-Extensions"):
            return flask_sock_view(rest=rest)
        return _serve_plain(sock)

    view.__name__ = flask_sock_view.__name__
    return view


class _Handled(Response):
    """What the route returns once it has served the socket: gunicorn closes the connection
    (flask-sock's answer in gunicorn mode)."""

    def __call__(self, environ, start_response):
        raise StopIteration()


def _serve_plain(sock) -> Response:
    """Answer the upgrade ourselves (RFC 6455 section 4.2.2) and serve the connection."""
    key = request.headers["Sec-WebSocket-Key"].strip().encode()  # checked: 16 bytes, base64
    accept = base64.b64encode(hashlib.sha1(key + _ACCEPT_GUID).digest())
    negotiated = g.get("ocpp_negotiated")
    lines = [b"HTTP/1.1 101 Switching Protocols", b"Upgrade: websocket", b"Connection: Upgrade",
             b"Sec-WebSocket-Accept: " + accept]
    if negotiated is not None and negotiated.subprotocol:
        lines.append(b"Sec-WebSocket-Protocol: " + negotiated.subprotocol.encode())
    sock.sendall(b"\r\n".join(lines) + b"\r\n\r\n")
    config = current_app.config
    _serve(WebSocket(sock, PlainFrames(config["OCPP_MAX_FRAME_BYTES"]),
                     write_timeout=config["OCPP_WRITE_TIMEOUT"]))
    return _Handled()


def _serve(websocket: WebSocket) -> None:
    charger_id, identity, lenient, registration, previous_owner = g.ocpp_charger
    negotiated = g.get("ocpp_negotiated")
    version = negotiated.version if negotiated is not None else None
    if version is None:
        log.info("%s offered no OCPP version we speak (%r): closing", identity,
                 request.headers.get("Sec-WebSocket-Protocol"))
        websocket.close(1002, "Unsupported OCPP version")
        websocket.finish()
        return
    app = current_app._get_current_object()
    config = app.config
    writer = runtime.writer(app)
    if charger_id is None:
        # Through the group writer: a fleet connecting at once shares a few commits.
        charger_id = writer.run(stations.enrol, identity, registration, _now())
        log.info("enrolled charger %r (%s)", identity, registration)
    handlers = version.handlers
    events = runtime.events(app)
    ctx = ChargerContext(identity=identity, charger_id=charger_id, writer=writer,
                         heartbeat_interval=config["OCPP_HEARTBEAT_INTERVAL"],
                         unknown_tag_policy=config["OCPP_UNKNOWN_ID_TAGS"],
                         registration=registration, events=events)
    session = OcppSession(version, lenient=lenient, handled_actions=frozenset(handlers))
    ticket = g.get("ocpp_ticket")
    connection = ChargerConnection(
        websocket, ctx, session, handlers, log_messages=config["MESSAGE_LOG_ENABLED"],
        ping_interval=config["OCPP_PING_INTERVAL"],
        max_missed_pongs=config["OCPP_MAX_MISSED_PONGS"],
        on_first_answer=ticket.release if ticket is not None else None,
    )
    registry = runtime.registry(current_app)
    router = runtime.router(current_app)
    router.start()  # once per process: serve commands routed here from other processes
    start_keepalive(registry, config["OCPP_PING_INTERVAL"])
    gcpolicy.install(config["GC_FREEZE_SURVIVORS"], config["GC_FULL_COLLECT_SECONDS"])
    previous = registry.register(connection)
    if previous is not None:
        log.info("%s reconnected: closing its previous connection", identity)
        previous.close("replaced by a new connection")
    # Queued, not waited for: a reply that waits for a commit waits for this one too (the
    # writer keeps the order), and the handshake needs no commit of its own. The event
    # goes out once the mark is committed, as every live event does.
    writer.submit(stations.record_connected, charger_id, connection.owner, version.name,
                  _now(), then=partial(events.publish, "connected", identity,
                                       ocpp_version=version.name))
    router.took_over(identity, previous_owner)
    log.info("%s connected (OCPP %s)", identity, version.name)
    try:
        connection.serve()
    finally:
        try:
            connection.close()
            registry.unregister(connection)
            if registry.get(identity) is None:
                writer.run(stations.record_disconnected, charger_id, connection.owner, _now())
                events.publish("disconnected", identity)
            log.info("%s disconnected", identity)
        finally:
            websocket.finish()  # may wait a few seconds for the charger's Close


def _now() -> datetime:
    return datetime.now(UTC)

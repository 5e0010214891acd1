"""The OCPP-J endpoint: ``ws://HOST:PORT/<prefix>/<identity>``.

The HTTP handshake is checked before the upgrade (simple-websocket completes the upgrade before
the route runs): an unknown charger gets 404 unless the policy enrols it, a disabled one 404 too.
Then the subprotocol picks the OCPP version; a charger offering none we speak is closed at once.
"""
from __future__ import annotations

import logging
from datetime import UTC, datetime
from urllib.parse import unquote

import simple_websocket
from flask import Blueprint, Flask, Response, abort, current_app, g, request
from sqlalchemy import bindparam, select

from .. import events, gcpolicy, runtime
from ..extensions import db
from ..models import Charger
from ..ocpp import v16, versions
from ..ocpp.context import ChargerContext
from ..ocpp.session import OcppSession
from ..services import stations
from .connection import ChargerConnection
from .driver import WebSocket
from .framing import PlainFrames, WsprotoFrames, release
from .registry import registry, start_keepalive

log = logging.getLogger(__name__)

HANDLERS = {"1.6": v16.HANDLERS}
MAX_IDENTITY_LENGTH = 64
_chargers = Charger.__table__
_LOOKUP = select(_chargers.c.id, _chargers.c.enabled, _chargers.c.lenient).where(
    _chargers.c.identity == bindparam("identity"))


def init_app(app: Flask) -> None:
    prefix = app.config["OCPP_PATH_PREFIX"].rstrip("/")
    app.config.setdefault("SOCK_SERVER_OPTIONS", {}).update({
        "subprotocols": versions.server_subprotocols(),
        "max_message_size": app.config["OCPP_MAX_FRAME_BYTES"],
        # Pings are sent by ChargerConnection, which tolerates chargers that never answer them.
        "ping_interval": None,
        # The route reads its socket itself (driver.WebSocket): no reader thread per connection.
        "thread_class": _NoReaderThread,
    })
    bp = Blueprint("ocpp", __name__)
    bp.route(f"{prefix}/<path:rest>", websocket=True)(_ocpp_route)
    bp.before_app_request(_check_handshake)
    app.register_blueprint(bp)


def _ocpp_route(rest: str) -> Response:
    """The upgrade (simple-websocket), then the connection; nothing of it outlives it.

    Not flask-sock's ``Sock.route``: it defines a response class per request whose method holds
    the socket in a closure, a reference cycle that kept the whole connection (simple-websocket
    server, WSGI environ, wsproto and its zlib streams) until a full garbage collection, and for
    good once ``gcpolicy`` had frozen it (docs/performance.md, "Connection churn").
    """
    ws = simple_websocket.Server(request.environ, **current_app.config["SOCK_SERVER_OPTIONS"])
    try:
        ocpp_socket(ws, rest)
    finally:
        release(ws.ws)  # wsproto's own reference cycle
    return _SocketTaken(ws.mode)


class _SocketTaken(Response):
    """What a websocket route returns: the socket was the route's, nothing more goes out."""

    def __init__(self, mode: str) -> None:
        super().__init__()
        self.mode = mode

    def __call__(self, environ, start_response):
        if self.mode == "gunicorn":
            raise StopIteration()  # gunicorn's way to drop a connection without a response
        if self.mode == "werkzeug":  # the development server finishes the request itself
            return super().__call__(environ, start_response)
        return []


class _NoReaderThread:
    """Stands in for the reader thread simple-websocket would start after the handshake."""

    name = "ocpp-route-reads"

    def __init__(self, target=None, **kwargs) -> None:
        pass

    def start(self) -> None:
        pass


def _driver_for(ws) -> WebSocket:
    """Take the socket over from simple-websocket once its handshake is done."""
    ws.connected = False  # simple-websocket must not touch the socket any more
    limit = current_app.config["OCPP_MAX_FRAME_BYTES"]
    if request.headers.get("Sec-WebSocket-Extensions"):
        # An extension may have been agreed (permessage-deflate): wsproto's framing keeps it.
        return WebSocket(ws.sock, WsprotoFrames(ws.ws, limit))
    return WebSocket(ws.sock, PlainFrames(limit))


def _identity_from_request(prefix: str) -> str | None:
    # The raw URI keeps %2F and friends encoded, so the last segment is the identity.
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or request.path
    path = raw.split("?", 1)[0]
    if not path.startswith(prefix + "/"):
        return None
    segment = path.rstrip("/").rsplit("/", 1)[-1]
    return unquote(segment)


def _check_handshake():
    prefix = current_app.config["OCPP_PATH_PREFIX"].rstrip("/")
    if not request.path.startswith(prefix + "/"):
        return None
    if request.headers.get("Upgrade", "").lower() != "websocket":
        abort(400, description="OCPP endpoint: websocket upgrade expected")
    identity = _identity_from_request(prefix)
    if not identity or len(identity) > MAX_IDENTITY_LENGTH:
        abort(404)
    # SQLAlchemy Core with a statement built once: the ORM session cost a third of a
    # handshake when a fleet reconnects at once (docs/performance.md).
    with db.engine.connect() as conn:
        row = conn.execute(_LOOKUP, {"identity": identity}).first()
    if row is None:
        policy = current_app.config["OCPP_UNKNOWN_CHARGERS"]
        if policy == "reject":
            log.info("refused unknown charger %r", identity)
            abort(404)
        status = "accepted" if policy == "accept" else "pending"
        # Through the group writer: a fleet connecting at once shares a few commits.
        charger_id = runtime.writer(current_app._get_current_object()).run(
            stations.enrol, identity, status, _now())
        log.info("enrolled charger %r (%s)", identity, status)
        row = (charger_id, True, False)
    charger_id, enabled, lenient = row
    if not enabled:
        log.info("refused disabled charger %r", identity)
        abort(404)
    g.ocpp_charger = (charger_id, identity, lenient)
    return None


def _version_for(ws) -> versions.OcppVersion | None:
    if ws.subprotocol:
        return versions.by_subprotocol(ws.subprotocol)
    offered = request.headers.get("Sec-WebSocket-Protocol", "")
    if any(part.strip() for part in offered.split(",")):
        return None  # offered only versions we do not speak
    fallback = current_app.config["OCPP_NO_SUBPROTOCOL_VERSION"]
    return versions.SUPPORTED.get(fallback)


def ocpp_socket(ws, rest: str) -> None:
    charger_id, identity, lenient = g.ocpp_charger
    version = _version_for(ws)
    websocket = _driver_for(ws)
    if version is None:
        log.info("%s offered no OCPP version we speak (%r): closing", identity,
                 request.headers.get("Sec-WebSocket-Protocol"))
        websocket.close(1002, "Unsupported OCPP version")
        websocket.finish()
        return
    app = current_app._get_current_object()
    config = app.config
    writer = runtime.writer(app)
    handlers = HANDLERS[version.name]
    ctx = ChargerContext(identity=identity, charger_id=charger_id, writer=writer,
                         heartbeat_interval=config["OCPP_HEARTBEAT_INTERVAL"],
                         unknown_tag_policy=config["OCPP_UNKNOWN_ID_TAGS"])
    session = OcppSession(version, lenient=lenient, handled_actions=frozenset(handlers))
    connection = ChargerConnection(
        websocket, ctx, session, handlers, log_messages=config["MESSAGE_LOG_ENABLED"],
        ping_interval=config["OCPP_PING_INTERVAL"],
        max_missed_pongs=config["OCPP_MAX_MISSED_PONGS"],
    )
    start_keepalive(config["OCPP_PING_INTERVAL"])
    gcpolicy.install(config["GC_FREEZE_SURVIVORS"], config["GC_FULL_COLLECT_SECONDS"])
    previous = registry.register(connection)
    if previous is not None:
        log.info("%s reconnected: closing its previous connection", identity)
        previous.close("replaced by a new connection")
    writer.run(stations.record_connected, charger_id, connection.owner, version.name, _now())
    events.publish("connected", identity, ocpp_version=version.name)
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

"""Reference central system for benchmarks: our re-implementation of the ``ocpp`` package's example.

The ``ocpp`` project ships an example OCPP 1.6 central system (asyncio ``websockets.serve`` plus
an ``ocpp.v16.ChargePoint`` subclass whose ``@on`` handlers return call results and store
nothing). This module is our own minimal equivalent written against the ``ocpp`` package API, so
``bench/fleet.py`` can run the same load against it and against Constellation side by side.

Differences from the original, on purpose: it also answers StartTransaction, MeterValues,
StatusNotification, Authorize and StopTransaction (the benchmark's workloads need them), and it
logs at WARNING by default, because the original's INFO logging of every frame would measure the
logger rather than the protocol stack (``--log-level INFO`` restores it). ``--sync-validation``
is an optional variant (the package's defaults are kept otherwise).

It speaks 2.0.1 too (the package also ships a v201 example): ``ChargePoint201`` answers
BootNotification, Heartbeat, StatusNotification, Authorize, TransactionEvent and MeterValues the
same way, so the 2.x scenarios have the same reference.

Usage: python bench/example_csms.py --port 9000     (charge points: ws://127.0.0.1:9000/ocpp/ID)
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import resource
from datetime import UTC, datetime

import ocpp.messages
import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint as BaseChargePoint
from ocpp.v16 import call_result
from ocpp.v16.enums import Action, AuthorizationStatus, RegistrationStatus
from ocpp.v201 import ChargePoint as BaseChargePoint201
from ocpp.v201 import call_result as call_result201

LOG = logging.getLogger("example_csms")

# One process-wide counter, like a CSMS that hands out transaction ids.
_transaction_ids = itertools.count(1)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class ChargePoint(BaseChargePoint):
    """Answers every charge-point-initiated action the benchmark uses; remembers nothing."""

    @on(Action.boot_notification)
    def on_boot_notification(
        self, charge_point_vendor: str, charge_point_model: str, **kwargs: object
    ) -> call_result.BootNotification:
        return call_result.BootNotification(
            current_time=_now(), interval=300, status=RegistrationStatus.accepted
        )

    @on(Action.heartbeat)
    def on_heartbeat(self) -> call_result.Heartbeat:
        return call_result.Heartbeat(current_time=_now())

    @on(Action.authorize)
    def on_authorize(self, id_tag: str) -> call_result.Authorize:
        return call_result.Authorize(id_tag_info={"status": AuthorizationStatus.accepted})

    @on(Action.start_transaction)
    def on_start_transaction(
        self, connector_id: int, id_tag: str, meter_start: int, timestamp: str, **kwargs: object
    ) -> call_result.StartTransaction:
        return call_result.StartTransaction(
            transaction_id=next(_transaction_ids),
            id_tag_info={"status": AuthorizationStatus.accepted},
        )

    @on(Action.meter_values)
    def on_meter_values(
        self, connector_id: int, meter_value: list, **kwargs: object
    ) -> call_result.MeterValues:
        return call_result.MeterValues()

    @on(Action.status_notification)
    def on_status_notification(
        self, connector_id: int, error_code: str, status: str, **kwargs: object
    ) -> call_result.StatusNotification:
        return call_result.StatusNotification()

    @on(Action.stop_transaction)
    def on_stop_transaction(
        self, meter_stop: int, timestamp: str, transaction_id: int, **kwargs: object
    ) -> call_result.StopTransaction:
        return call_result.StopTransaction(id_tag_info={"status": AuthorizationStatus.accepted})


class ChargePoint201(BaseChargePoint201):
    """The 2.0.1 counterpart: answers what the 2.x workloads send; remembers nothing."""

    @on("BootNotification")
    def on_boot_notification(self, charging_station: dict, reason: str, **kwargs: object):
        return call_result201.BootNotification(current_time=_now(), interval=300,
                                               status="Accepted")

    @on("Heartbeat")
    def on_heartbeat(self):
        return call_result201.Heartbeat(current_time=_now())

    @on("StatusNotification")
    def on_status_notification(self, **kwargs: object):
        return call_result201.StatusNotification()

    @on("Authorize")
    def on_authorize(self, id_token: dict, **kwargs: object):
        return call_result201.Authorize(id_token_info={"status": "Accepted"})

    @on("TransactionEvent")
    def on_transaction_event(self, **kwargs: object):
        if kwargs.get("id_token"):
            return call_result201.TransactionEvent(id_token_info={"status": "Accepted"})
        return call_result201.TransactionEvent()

    @on("MeterValues")
    def on_meter_values(self, **kwargs: object):
        return call_result201.MeterValues()


_CLASSES = {"ocpp1.6": ChargePoint, "ocpp2.0.1": ChargePoint201}


async def on_connect(connection: websockets.asyncio.server.ServerConnection) -> None:
    """Serve one charge point; its identity is the last segment of the request path."""
    cls = _CLASSES.get(connection.subprotocol or "")
    if cls is None:
        LOG.warning("closing: client negotiated none of %s", list(_CLASSES))
        await connection.close()
        return
    identity = connection.request.path.rstrip("/").rsplit("/", 1)[-1]
    try:
        await cls(identity, connection).start()
    except websockets.ConnectionClosed:
        pass


async def serve(host: str, port: int) -> None:
    """Accept charge points until cancelled."""
    # Permessage-deflate stays at the library default, as in the original; the simulator does
    # not offer it, so frames travel uncompressed.
    async with websockets.serve(
        on_connect, host, port, subprotocols=list(_CLASSES), backlog=4096
    ) as server:
        LOG.warning("example CSMS listening on ws://%s:%d/ocpp/<id>", host, port)
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument(
        "--sync-validation",
        action="store_true",
        help="validate schemas on the event loop instead of the package default, a thread pool",
    )
    args = parser.parse_args(argv)
    if args.sync_validation:
        # The package hands every schema validation (request and reply) to the default thread
        # pool; with the GIL that costs more than validating inline.
        ocpp.messages.ASYNC_VALIDATION = False
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    # Thousands of sockets need more descriptors than the usual soft limit of 1024.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        asyncio.run(serve(args.host, args.port))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

"""A simulated charger (OCPP 1.6, 2.0.1 or 2.1) built on the ``ocpp`` package's ChargePoint.

It runs its asyncio loop in a thread so that synchronous tests can drive it and call the REST
API at the same time. It answers every CSMS command with a configurable reply and records what
it received.
"""
from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable
from typing import Any

import ocpp.v16
import ocpp.v21
import ocpp.v201
import websockets
from ocpp.routing import on
from ocpp.v16 import call

DEFAULT_REPLIES: dict[str, dict[str, Any]] = {
    "CancelReservation": {"status": "Accepted"},
    "ChangeAvailability": {"status": "Accepted"},
    "ChangeConfiguration": {"status": "Accepted"},
    "ClearCache": {"status": "Accepted"},
    "ClearChargingProfile": {"status": "Accepted"},
    "DataTransfer": {"status": "Accepted", "data": "pong"},
    "GetCompositeSchedule": {"status": "Accepted", "connectorId": 1},
    "GetConfiguration": {
        "configurationKey": [
            {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
            {"key": "NumberOfConnectors", "readonly": True, "value": "2"},
        ],
        "unknownKey": [],
    },
    "GetDiagnostics": {"fileName": "diag.zip"},
    "GetLocalListVersion": {"listVersion": 7},
    "RemoteStartTransaction": {"status": "Accepted"},
    "RemoteStopTransaction": {"status": "Accepted"},
    "ReserveNow": {"status": "Accepted"},
    "Reset": {"status": "Accepted"},
    "SendLocalList": {"status": "Accepted"},
    "SetChargingProfile": {"status": "Accepted"},
    "TriggerMessage": {"status": "Accepted"},
    "UnlockConnector": {"status": "Unlocked"},
    "UpdateFirmware": {},
}


# What a 2.0.1/2.1 station answers by default. A reply may also be a callable of the request's
# (snake_case) fields, for answers that echo the request (GetVariables, SetVariables).
DEFAULT_REPLIES_2X: dict[str, Any] = {
    "CancelReservation": {"status": "Accepted"},
    "ChangeAvailability": {"status": "Accepted"},
    "ClearCache": {"status": "Accepted"},
    "ClearChargingProfile": {"status": "Accepted"},
    "ClearDisplayMessage": {"status": "Accepted"},
    "CostUpdated": {},
    "CustomerInformation": {"status": "Accepted"},
    "DataTransfer": {"status": "Accepted", "data": "pong"},
    "GetBaseReport": {"status": "Accepted"},
    "GetChargingProfiles": {"status": "Accepted"},
    "GetCompositeSchedule": {"status": "Accepted"},
    "GetDisplayMessages": {"status": "Accepted"},
    "GetLocalListVersion": {"versionNumber": 7},
    "GetLog": {"status": "Accepted", "filename": "log.zip"},
    "GetReport": {"status": "Accepted"},
    "GetTransactionStatus": {"messagesInQueue": False},
    "GetVariables": lambda req: {"getVariableResult": [
        {"attributeStatus": "Accepted", "attributeValue": "300", **_echo(item)}
        for item in req["get_variable_data"]]},
    "RequestStartTransaction": {"status": "Accepted"},
    "RequestStopTransaction": {"status": "Accepted"},
    "ReserveNow": {"status": "Accepted"},
    "Reset": {"status": "Accepted"},
    "SendLocalList": {"status": "Accepted"},
    "SetChargingProfile": {"status": "Accepted"},
    "SetDisplayMessage": {"status": "Accepted"},
    "SetNetworkProfile": {"status": "Accepted"},
    "SetVariables": lambda req: {"setVariableResult": [
        {"attributeStatus": "Accepted", **_echo(item)} for item in req["set_variable_data"]]},
    "TriggerMessage": {"status": "Accepted"},
    "UnlockConnector": {"status": "Unlocked"},
    "UpdateFirmware": {"status": "Accepted"},
}


def _echo(item: dict) -> dict:
    """The component/variable/attributeType of a Get/SetVariables item, in wire spelling."""
    out = {"component": _camel(item["component"]), "variable": _camel(item["variable"])}
    if item.get("attribute_type"):
        out["attributeType"] = item["attribute_type"]
    return out


def _camel(value: Any) -> Any:
    if isinstance(value, dict):
        return {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), k): _camel(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value


# Per subprotocol: the ocpp package's module and the replies its simulated charger gives.
_VERSIONS: dict[str, tuple[Any, dict[str, Any]]] = {
    "ocpp1.6": (ocpp.v16, DEFAULT_REPLIES),
    "ocpp2.0.1": (ocpp.v201, DEFAULT_REPLIES_2X),
    "ocpp2.1": (ocpp.v21, DEFAULT_REPLIES_2X),
}


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


class _Routing:
    def __init__(self, identity: str, ws: Any, owner: SimCharger) -> None:
        super().__init__(identity, ws)
        self.owner = owner

    async def route_message(self, raw_msg: str) -> None:
        # Handle each message in its own task, as a real charger's firmware would: a command
        # left unanswered ("hang") must not stop the charger from sending or receiving.
        task = asyncio.ensure_future(super().route_message(raw_msg))
        self.owner.tasks.add(task)
        task.add_done_callback(self.owner.tasks.discard)


def _make_handler(action: str, module: Any, defaults: dict[str, Any]) -> Callable:
    async def handler(self: Any, **kwargs: Any) -> Any:
        self.owner.received.append((action, kwargs))
        reply = self.owner.replies.get(action, defaults[action])
        if isinstance(reply, Exception):
            raise reply
        if reply == "hang":
            await asyncio.sleep(3600)
        if isinstance(reply, tuple) and reply[0] == "delay":
            await asyncio.sleep(reply[1])
            reply = reply[2] if len(reply) > 2 else defaults[action]
        if callable(reply):
            reply = reply(kwargs)
        result_class = getattr(module.call_result, action)
        return result_class(**{_snake(k): v for k, v in reply.items()})

    handler.__name__ = f"on_{_snake(action)}"
    return on(action)(handler)


def _charge_point_class(subprotocol: str) -> type:
    module, defaults = _VERSIONS[subprotocol]
    cls = type(f"SimChargePoint_{module.__name__.split('.')[-1]}",
               (_Routing, module.ChargePoint), {})
    for action in defaults:
        setattr(cls, f"on_{_snake(action)}", _make_handler(action, module, defaults))
    return cls


_CLASSES = {name: _charge_point_class(name) for name in _VERSIONS}


class SimCharger:
    """``with SimCharger(url, "CP1") as cp: cp.call(call.Heartbeat())``.

    ``subprotocols`` picks the version (``["ocpp2.0.1"]``); the charge point class is the ``ocpp``
    package's for the subprotocol the server chose. ``cp.ocpp`` is that package module
    (``cp.ocpp.call.Heartbeat()``).
    """

    def __init__(self, ws_url: str, identity: str, subprotocols: list[str] | None = None,
                 path_identity: str | None = None) -> None:
        from urllib.parse import quote

        self.identity = identity
        self.url = f"{ws_url}/{path_identity or quote(identity, safe='')}"
        self.subprotocols = ["ocpp1.6"] if subprotocols is None else subprotocols
        self.replies: dict[str, Any] = {}
        self.received: list[tuple[str, dict]] = []
        self.tasks: set = set()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.ws: Any = None
        self.cp: Any = None
        self._task: Any = None

    def _run(self, coro: Any, timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def connect(self) -> SimCharger:
        self.thread.start()

        async def _connect() -> None:
            self.ws = await websockets.connect(self.url, subprotocols=self.subprotocols or None,
                                               open_timeout=10)
            cls = _CLASSES.get(self.ws.subprotocol or "ocpp1.6", _CLASSES["ocpp1.6"])
            self.cp = cls(self.identity, self.ws, self)
            self._task = asyncio.ensure_future(self.cp.start())

        self._run(_connect())
        return self

    @property
    def subprotocol(self) -> str | None:
        return self.ws.subprotocol

    @property
    def ocpp(self) -> Any:
        """The ``ocpp`` package module of the negotiated version (``ocpp.v201``, ...)."""
        return _VERSIONS.get(self.ws.subprotocol or "ocpp1.6", _VERSIONS["ocpp1.6"])[0]

    def call(self, payload: Any, timeout: float = 15, **kwargs: Any) -> Any:
        """Send a CALL; a CALLERROR reply raises the ocpp package's matching exception."""
        kwargs.setdefault("suppress", False)
        return self._run(self.cp.call(payload, **kwargs), timeout + 5)

    def boot(self, **kwargs: Any) -> Any:
        if self.ocpp is not ocpp.v16:
            fields = {"charging_station": {"vendor_name": "Acme", "model": "Volt-2"},
                      "reason": "PowerUp", **kwargs}
            return self.call(self.ocpp.call.BootNotification(**fields))
        fields = {"charge_point_vendor": "Acme", "charge_point_model": "Volt-1", **kwargs}
        return self.call(call.BootNotification(**fields))

    def close(self) -> None:
        async def _close() -> None:
            for task in [self._task, *self.tasks]:
                if task:
                    task.cancel()
            if self.ws:
                await self.ws.close()

        if self.thread.is_alive():
            try:
                self._run(_close(), 10)
            finally:
                self.loop.call_soon_threadsafe(self.loop.stop)
                self.thread.join(5)

    def __enter__(self) -> SimCharger:
        return self.connect()

    def __exit__(self, *exc: Any) -> None:
        self.close()


class RawSocket:
    """A bare websocket to send hand-made frames (bad frames, crossing calls)."""

    def __init__(self, ws_url: str, identity: str, subprotocols: list[str] | None = None,
                 compression: str | None = "deflate") -> None:
        self.url = f"{ws_url}/{identity}"
        self.subprotocols = ["ocpp1.6"] if subprotocols is None else subprotocols
        self.compression = compression  # websockets offers permessage-deflate by default
        self.loop = asyncio.new_event_loop()
        self.ws: Any = None

    def __enter__(self) -> RawSocket:
        self.ws = self.loop.run_until_complete(
            websockets.connect(self.url, subprotocols=self.subprotocols or None,
                               compression=self.compression))
        return self

    def send(self, text: str | list[str]) -> None:
        """Send a message; a list is sent as the fragments of one message."""
        self.loop.run_until_complete(self.ws.send(text))

    def ping(self, timeout: float = 10) -> float:
        """Ping the server; the round-trip time once its Pong arrives."""
        async def _ping() -> float:
            return await asyncio.wait_for(await self.ws.ping(), timeout)
        return self.loop.run_until_complete(_ping())

    def recv(self, timeout: float = 10) -> str:
        return self.loop.run_until_complete(asyncio.wait_for(self.ws.recv(), timeout))

    def exchange(self, text: str, timeout: float = 10) -> Any:
        import json

        self.send(text)
        return json.loads(self.recv(timeout))

    def __exit__(self, *exc: Any) -> None:
        self.loop.run_until_complete(self.ws.close())
        self.loop.close()

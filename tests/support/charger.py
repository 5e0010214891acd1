"""A simulated OCPP 1.6 charger built on the ``ocpp`` package's ChargePoint.

It runs its asyncio loop in a thread so that synchronous tests can drive it and call the REST
API at the same time. It answers every CSMS command with a configurable reply and records what
it received.
"""
from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call

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


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


class _ChargePoint(ChargePoint):
    def __init__(self, identity: str, ws: Any, owner: SimCharger) -> None:
        super().__init__(identity, ws)
        self.owner = owner

    async def route_message(self, raw_msg: str) -> None:
        # Handle each message in its own task, as a real charger's firmware would: a command
        # left unanswered ("hang") must not stop the charger from sending or receiving.
        task = asyncio.ensure_future(super().route_message(raw_msg))
        self.owner.tasks.add(task)
        task.add_done_callback(self.owner.tasks.discard)


def _make_handler(action: str) -> Callable:
    async def handler(self: _ChargePoint, **kwargs: Any) -> Any:
        self.owner.received.append((action, kwargs))
        reply = self.owner.replies.get(action, DEFAULT_REPLIES[action])
        if isinstance(reply, Exception):
            raise reply
        if reply == "hang":
            await asyncio.sleep(3600)
        if isinstance(reply, tuple) and reply[0] == "delay":
            await asyncio.sleep(reply[1])
            reply = reply[2] if len(reply) > 2 else DEFAULT_REPLIES[action]
        result_class = getattr(__import__("ocpp.v16.call_result", fromlist=[action]), action)
        return result_class(**{_snake(k): v for k, v in reply.items()})

    handler.__name__ = f"on_{_snake(action)}"
    return on(action)(handler)


for _action in DEFAULT_REPLIES:
    setattr(_ChargePoint, f"on_{_snake(_action)}", _make_handler(_action))


class SimCharger:
    """``with SimCharger(url, "CP1") as cp: cp.call(call.Heartbeat())``."""

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
        self.cp: _ChargePoint | None = None
        self._task: Any = None

    def _run(self, coro: Any, timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def connect(self) -> SimCharger:
        self.thread.start()

        async def _connect() -> None:
            self.ws = await websockets.connect(self.url, subprotocols=self.subprotocols or None,
                                               open_timeout=10)
            self.cp = _ChargePoint(self.identity, self.ws, self)
            self._task = asyncio.ensure_future(self.cp.start())

        self._run(_connect())
        return self

    @property
    def subprotocol(self) -> str | None:
        return self.ws.subprotocol

    def call(self, payload: Any, timeout: float = 15, **kwargs: Any) -> Any:
        """Send a CALL; a CALLERROR reply raises the ocpp package's matching exception."""
        kwargs.setdefault("suppress", False)
        return self._run(self.cp.call(payload, **kwargs), timeout + 5)

    def boot(self, **kwargs: Any) -> Any:
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

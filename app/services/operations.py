"""Version-neutral operations: what operators ask of a charger, whatever OCPP version it speaks.

The API, the console and jobs name an operation from ``OPERATIONS`` ("start", "reset", ...)
with arguments in the domain's words (``token``, ``evse_id``, ``hard``). ``run`` checks the
arguments here (the same for every version), asks the charger's version adapter to word them
(``OcppVersion.operations[name](args) -> Translation``) and sends the result through
``commands.submit``. An argument that is missing or wrong is a 400 naming it; an operation the
version cannot do is a 422. docs/operations.md is the table of what each version sends.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import current_app

from .. import runtime
from ..models import Command
from . import commands
from .errors import DomainError
from .stations import MAX_CONNECTOR_ID

INTEGER_MAX = 2**31 - 1
MAX_TOKEN = 255  # 2.1's IdToken; each adapter holds its version to its own limit
MAX_STRING = 512
MAX_KEYS = 100


class OperationError(DomainError):
    """An operation that cannot be run as asked."""


@dataclass(frozen=True)
class Argument:
    """One argument of an operation: its name, kind (how it is checked), and whether it must
    be given (or what it is when left out)."""

    name: str
    kind: str  # bool | id | token | token_type | time | keys | string | value | message
    description: str
    required: bool = False
    default: Any = None
    low: int = 0
    high: int = INTEGER_MAX

    def describe(self) -> dict[str, Any]:
        body: dict[str, Any] = {"name": self.name, "type": _JSON_TYPES[self.kind],
                                "required": self.required, "description": self.description}
        if self.default is not None:
            body["default"] = self.default
        return body


_JSON_TYPES = {"bool": "boolean", "id": "integer", "token": "string", "token_type": "string",
               "time": "string", "keys": "array", "string": "string", "value": "string",
               "message": "string"}

# Trigger messages by their neutral names (each adapter says which its version has).
TRIGGER_MESSAGES = ("boot", "heartbeat", "status", "meter_values", "firmware_status",
                    "log_status", "diagnostics_status", "transaction_event")


def _evse() -> Argument:
    return Argument("evse_id", "id", "the EVSE (2.x); on 1.6 the connector of that number",
                    low=0, high=MAX_CONNECTOR_ID)


def _connector(description: str = "the connector (1.6 numbering; on 2.x the EVSE's "
                                  "connector, or the EVSE itself when evse_id is left out)",
               required: bool = False) -> Argument:
    return Argument("connector_id", "id", description, required=required, low=0,
                    high=MAX_CONNECTOR_ID)


_TOKEN = Argument("token", "token", "the id token (1.6 idTag)", required=True)
_TOKEN_TYPE = Argument("token_type", "token_type", "2.x idToken type (ISO14443, Central, ...); "
                       "1.6 has none", default="Central")

OPERATIONS: dict[str, tuple[str, tuple[Argument, ...]]] = {
    "start": ("Start a charging session for a token", (
        _TOKEN, _TOKEN_TYPE, _evse(), _connector())),
    "stop": ("Stop a charging session", (
        Argument("transaction_id", "id", "the CSMS's transaction id (as the API shows it)",
                 required=True, low=1),)),
    "reset": ("Reboot the charger", (
        Argument("hard", "bool", "at once (1.6 Hard, 2.x Immediate) rather than when idle "
                 "(Soft, OnIdle)", default=False),)),
    "unlock": ("Unlock a connector", (_connector("the connector to unlock", required=True),
                                      _evse())),
    "availability": ("Make the charger, an EVSE or a connector operative or inoperative", (
        Argument("operative", "bool", "true: Operative, false: Inoperative", required=True),
        _evse(), _connector())),
    "reserve": ("Reserve the charger or an EVSE for a token", (
        _TOKEN, _TOKEN_TYPE,
        Argument("expires_at", "time", "when the reservation ends (ISO 8601)", required=True),
        _evse(), _connector(),
        Argument("reservation_id", "id", "the reservation's id; a new one when left out",
                 low=1))),
    "cancel_reservation": ("Cancel a reservation", (
        Argument("reservation_id", "id", "the reservation to cancel", required=True),)),
    "publish_local_list": ("Send the stored tokens as the charger's local authorization list", (
        Argument("full", "bool", "replace the whole list (Full) rather than update its entries "
                 "(Differential)", default=True),)),
    "get_configuration": ("Read configuration (1.6 keys, 2.x variables)", (
        Argument("keys", "keys", "1.6 keys, or 2.x \"Component[.instance]/Variable[.instance]\"; "
                 "all of them when left out (2.x: a full base report)"),)),
    "set_configuration": ("Change one configuration key or variable", (
        Argument("key", "string", "1.6 key, or 2.x \"Component[.instance]/Variable[.instance]\"",
                 required=True),
        Argument("value", "value", "the new value (numbers and booleans are sent as text)",
                 required=True))),
    "update_firmware": ("Install firmware", (
        Argument("firmware_file_id", "id", "an uploaded firmware file the app serves", low=1),
        Argument("location", "string", "where the charger downloads it (instead of a file)"),
        Argument("retrieve_at", "time", "when to download it; now when left out"))),
    "upload_logs": ("Have the charger upload its diagnostics or logs to the app", (
        Argument("since", "time", "oldest entries wanted"),
        Argument("until", "time", "newest entries wanted"))),
    "trigger": ("Ask the charger to send a message now", (
        Argument("message", "message", "one of " + ", ".join(TRIGGER_MESSAGES), required=True),
        _evse(), _connector())),
}


def names() -> list[str]:
    return list(OPERATIONS)


def catalogue() -> list[dict[str, Any]]:
    """Every operation with its arguments and the versions that can do it (for the API)."""
    versions = list(runtime.ocpp_versions(current_app))
    return [{"name": name, "description": description,
             "arguments": [argument.describe() for argument in arguments],
             "versions": [v.name for v in versions if name in v.operations]}
            for name, (description, arguments) in OPERATIONS.items()]


def check_arguments(name: str, args: Any) -> dict[str, Any]:
    """The arguments of operation ``name``, checked and with their defaults (OperationError
    naming the first argument that is wrong)."""
    if name not in OPERATIONS:
        raise OperationError(f"no operation {name!r}; one of: {', '.join(OPERATIONS)}", 404)
    if args is None:
        args = {}
    if not isinstance(args, dict):
        raise OperationError("the arguments must be a JSON object")
    arguments = OPERATIONS[name][1]
    unknown = sorted(set(args) - {a.name for a in arguments})
    if unknown:
        raise OperationError(f"{name} has no argument {', '.join(unknown)}; its arguments: "
                             + ", ".join(a.name for a in arguments))
    checked: dict[str, Any] = {}
    for argument in arguments:
        value = args.get(argument.name)
        if value is None:
            if argument.required:
                raise OperationError(f"{name} needs {argument.name}: {argument.description}")
            checked[argument.name] = argument.default
            continue
        checked[argument.name] = _check(argument, value)
    if name == "update_firmware" and (checked["firmware_file_id"] is None) == (
            checked["location"] is None):
        raise OperationError("update_firmware needs firmware_file_id or location (one of them)")
    if name == "upload_logs" and checked["since"] and checked["until"] and (
            checked["since"] > checked["until"]):
        raise OperationError("since must not be after until")
    return checked


def _check(argument: Argument, value: Any) -> Any:
    name, kind = argument.name, argument.kind
    if kind == "bool":
        if not isinstance(value, bool):
            raise OperationError(f"{name} must be true or false")
        return value
    if kind == "id":
        if isinstance(value, bool) or not isinstance(value, int):
            raise OperationError(f"{name} must be a whole number")
        if not argument.low <= value <= argument.high:
            raise OperationError(f"{name} must be from {argument.low} to {argument.high}")
        return value
    if kind == "time":
        return _time(name, value)
    if kind == "keys":
        if not isinstance(value, list) or not value or len(value) > MAX_KEYS:
            raise OperationError(f"{name} must be a list of 1 to {MAX_KEYS} keys")
        # "Component.instance/Variable.instance", each name at most 50 characters.
        return [_string(f"{name}[{i}]", key, 4 * 50 + 3) for i, key in enumerate(value)]
    if kind == "value":
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return str(value)
        return _string(name, value, 2500, empty=True)
    if kind == "message":
        if value not in TRIGGER_MESSAGES:
            raise OperationError(f"{name} must be one of {', '.join(TRIGGER_MESSAGES)}")
        return value
    if kind == "token":
        value = _string(name, value, MAX_TOKEN)
        if not value.isprintable() or value != value.strip():
            raise OperationError(f"{name} must not have surrounding spaces or control "
                                 "characters")
        return value
    if kind == "token_type":
        return _string(name, value, 20)
    return _string(name, value, MAX_STRING)


def _string(name: str, value: Any, limit: int, empty: bool = False) -> str:
    if not isinstance(value, str) or len(value) > limit or (not value and not empty):
        raise OperationError(f"{name} must be a string of {0 if empty else 1} to {limit} "
                             "characters")
    return value


def _time(name: str, value: Any) -> datetime:
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise OperationError(f"{name} must be an ISO 8601 time, e.g. 2030-01-31T18:00:00Z")
    try:
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except OverflowError:
        raise OperationError(f"{name} is out of range") from None


def run(identity: str, name: str, args: dict[str, Any] | None, *,
        requested_by: str | None = None, source: str = "api", wait: bool = True,
        timeout: float | None = None) -> Command:
    """Run operation ``name`` on charger ``identity``: the command of the charger's version,
    recorded and sent (answered when ``wait``). Raises DomainError: 404 unknown operation or
    charger, 400 a wrong argument, 422 what the version cannot do, 409 not connected."""
    checked = check_arguments(name, args)
    charger = commands.charger_by_identity(identity)
    version_name = charger.ocpp_version or "1.6"
    version = runtime.ocpp_versions(current_app).get(version_name)
    translate = version.operations.get(name) if version is not None else None
    if translate is None:
        raise OperationError(f"OCPP {version_name} chargers cannot {name}", 422)
    if checked.get("transaction_id") is not None:
        _own_transaction(charger.id, checked["transaction_id"])
    translation = translate(checked)
    return commands.submit(identity, translation.action, translation.payload, timeout=timeout,
                           wait=wait, requested_by=requested_by, source=source,
                           options=dict(translation.options))


def _own_transaction(charger_id: int, transaction_id: int) -> None:
    from ..extensions import db
    from ..models import Transaction

    tx = db.session.get(Transaction, transaction_id)
    if tx is None or tx.charger_id != charger_id:
        raise OperationError(f"no transaction {transaction_id} on this charger", 404)
    if tx.stopped_at is not None:
        raise OperationError(f"transaction {transaction_id} has already stopped", 409)

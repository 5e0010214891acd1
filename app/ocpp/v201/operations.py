"""OCPP 2.0.1 (and 2.1) wording of the version-neutral operations (``services/operations.py``).

``build`` makes the table for a version's token rules (2.0.1: 36 characters of an enumerated
type; 2.1: 255 characters of any type); ``OPERATIONS`` is 2.0.1's, and 2.1 keeps it through
``dataclasses.replace`` with its own token rules (``v21``).

Numbering: a 2.x charger has EVSEs, each with connectors from 1. When only ``connector_id`` is
given it is read the 1.6 way, as the EVSE of that number (and for unlock, that EVSE's connector
1). Configuration keys are ``Component[.instance]/Variable[.instance]``; a few well-known 1.6
keys are read as their 2.x variables (``KEY_ALIASES``). What the command's effects fill in (the
reservation id, the list version, request ids, the upload and firmware URLs) is left to
``services/command_effects.py``.
"""
from __future__ import annotations

import secrets
from typing import Any

from ...services import operation_lookups
from ...services.errors import DomainError
from ...services.time import iso
from ...services.values import TOKEN_TYPES
from ..operations import Translate, Translation
from . import tokens

MAX_NAME = 50  # component, variable and instance names: identifierString 50
MAX_VALUE = 1000  # SetVariableData.attributeValue

TRIGGERS = {
    "boot": "BootNotification",
    "heartbeat": "Heartbeat",
    "status": "StatusNotification",
    "meter_values": "MeterValues",
    "firmware_status": "FirmwareStatusNotification",
    "log_status": "LogStatusNotification",
    "diagnostics_status": "LogStatusNotification",
    "transaction_event": "TransactionEvent",
}

# 1.6 configuration keys and the 2.0.1 variables that took their place (appendix 2).
KEY_ALIASES = {
    "HeartbeatInterval": "OCPPCommCtrlr/HeartbeatInterval",
    "WebSocketPingInterval": "OCPPCommCtrlr/WebSocketPingInterval",
    "LocalAuthorizeOffline": "AuthCtrlr/LocalAuthorizeOffline",
    "LocalPreAuthorize": "AuthCtrlr/LocalPreAuthorize",
    "AuthorizeRemoteTxRequests": "AuthCtrlr/AuthorizeRemoteStart",
    "MeterValueSampleInterval": "SampledDataCtrlr/TxUpdatedInterval",
    "MeterValuesSampledData": "SampledDataCtrlr/TxUpdatedMeasurands",
    "StopTransactionOnEVSideDisconnect": "TxCtrlr/StopTxOnEVSideDisconnect",
    "ConnectionTimeOut": "TxCtrlr/EVConnectionTimeOut",
}


def new_request_id() -> int:
    """A positive 31-bit id for a request the charger echoes (remoteStartId, requestId):
    random, so ids of different processes and restarts do not collide in practice."""
    return secrets.randbelow(2**31 - 2) + 1


def _evse_of(args: dict) -> int | None:
    """The EVSE meant: evse_id, else connector_id read the 1.6 way; None for the station."""
    evse = args.get("evse_id")
    if evse is None:
        evse = args.get("connector_id")
    return evse or None  # 0 is the whole station


def _named(text: str, what: str) -> dict[str, str]:
    name, dot, instance = text.partition(".")
    if not name or (dot and not instance) or len(name) > MAX_NAME or len(instance) > MAX_NAME:
        raise DomainError(f"{what}: {text!r} must be Name or Name.instance, each at most "
                          f"{MAX_NAME} characters")
    return {"name": name, "instance": instance} if dot else {"name": name}


def parse_key(key: str, argument: str = "key") -> dict[str, dict[str, str]]:
    """``Component[.instance]/Variable[.instance]`` as a component and a variable."""
    key = KEY_ALIASES.get(key, key)
    component, slash, variable = key.partition("/")
    if not slash:
        raise DomainError(f"{argument}: {key!r} is no 2.x variable; write it "
                          "Component[.instance]/Variable[.instance], e.g. "
                          "OCPPCommCtrlr/HeartbeatInterval")
    return {"component": _named(component, argument), "variable": _named(variable, argument)}


def build(max_token: int = 36, token_types: tuple[str, ...] | None = TOKEN_TYPES
          ) -> dict[str, Translate]:
    """The operations of a 2.x version whose idTokens are at most ``max_token`` characters of
    one of ``token_types`` (None: any type)."""

    def id_token(args: dict) -> dict[str, str]:
        token, kind = args["token"], args.get("token_type") or "Central"
        if len(token) > max_token:
            raise DomainError(f"token must be at most {max_token} characters for this version")
        if token_types is not None and kind not in token_types:
            raise DomainError(f"token_type must be one of {', '.join(token_types)}")
        return {"idToken": token, "type": kind}

    def start(args: dict) -> Translation:
        remote_start_id = new_request_id()
        payload: dict[str, Any] = {"idToken": id_token(args), "remoteStartId": remote_start_id}
        evse = _evse_of(args)
        if evse is not None:
            payload["evseId"] = evse
        # The transaction that follows names remoteStartId: it links the two.
        return Translation("RequestStartTransaction", payload,
                           {"remote_start_id": remote_start_id})

    def stop(args: dict) -> Translation:
        return Translation("RequestStopTransaction", {
            "transactionId": operation_lookups.charger_transaction_id(args["transaction_id"])})

    def reset(args: dict) -> Translation:
        return Translation("Reset", {"type": "Immediate" if args["hard"] else "OnIdle"})

    def unlock(args: dict) -> Translation:
        if args.get("evse_id") is not None:
            evse, connector = args["evse_id"], args["connector_id"]
        else:
            evse, connector = args["connector_id"], 1
        if not evse or not connector:
            raise DomainError("evse_id and connector_id must be 1 or more to unlock")
        return Translation("UnlockConnector", {"evseId": evse, "connectorId": connector})

    def availability(args: dict) -> Translation:
        payload: dict[str, Any] = {
            "operationalStatus": "Operative" if args["operative"] else "Inoperative"}
        evse = _evse_of(args)
        if evse is not None:
            payload["evse"] = {"id": evse}
            if args.get("evse_id") and args.get("connector_id"):
                payload["evse"]["connectorId"] = args["connector_id"]
        return Translation("ChangeAvailability", payload)

    def reserve(args: dict) -> Translation:
        payload: dict[str, Any] = {"expiryDateTime": iso(args["expires_at"]),
                                   "idToken": id_token(args)}
        if args.get("reservation_id") is not None:
            payload["id"] = args["reservation_id"]
        evse = _evse_of(args)
        if evse is not None:
            payload["evseId"] = evse
        return Translation("ReserveNow", payload)

    def cancel_reservation(args: dict) -> Translation:
        return Translation("CancelReservation", {"reservationId": args["reservation_id"]})

    def publish_local_list(args: dict) -> Translation:
        entries = [tokens.local_list_entry(token, auth)
                   for token, auth in operation_lookups.local_list(max_token)]
        payload: dict[str, Any] = {"updateType": "Full" if args["full"] else "Differential"}
        if entries:  # the list has at least one entry, or is left out (a Full one: empty)
            payload["localAuthorizationList"] = entries
        return Translation("SendLocalList", payload)

    def get_configuration(args: dict) -> Translation:
        keys = args.get("keys")
        if not keys:
            return Translation("GetBaseReport", {"requestId": new_request_id(),
                                                 "reportBase": "FullInventory"})
        return Translation("GetVariables", {
            "getVariableData": [parse_key(key, "keys") for key in keys]})

    def set_configuration(args: dict) -> Translation:
        if len(args["value"]) > MAX_VALUE:
            raise DomainError(f"value must be at most {MAX_VALUE} characters")
        return Translation("SetVariables", {"setVariableData": [
            {"attributeValue": args["value"], **parse_key(args["key"])}]})

    def update_firmware(args: dict) -> Translation:
        firmware: dict[str, Any] = {}
        if args.get("retrieve_at") is not None:
            firmware["retrieveDateTime"] = iso(args["retrieve_at"])
        options: dict[str, Any] = {}
        if args.get("firmware_file_id") is not None:
            options["firmware_file_id"] = args["firmware_file_id"]  # the effect fills location
        else:
            firmware["location"] = args["location"]
        return Translation("UpdateFirmware", {"firmware": firmware}, options)

    def upload_logs(args: dict) -> Translation:
        log: dict[str, Any] = {}
        if args.get("since") is not None:
            log["oldestTimestamp"] = iso(args["since"])
        if args.get("until") is not None:
            log["latestTimestamp"] = iso(args["until"])
        # requestId and log.remoteLocation (the app's upload URL) come from the GetLog effect.
        return Translation("GetLog", {"logType": "DiagnosticsLog", "log": log})

    def trigger(args: dict) -> Translation:
        payload: dict[str, Any] = {"requestedMessage": TRIGGERS[args["message"]]}
        evse = _evse_of(args)
        if evse is not None:
            payload["evse"] = {"id": evse}
            if args.get("evse_id") and args.get("connector_id"):
                payload["evse"]["connectorId"] = args["connector_id"]
        return Translation("TriggerMessage", payload)

    return {
        "start": start, "stop": stop, "reset": reset, "unlock": unlock,
        "availability": availability, "reserve": reserve,
        "cancel_reservation": cancel_reservation, "publish_local_list": publish_local_list,
        "get_configuration": get_configuration, "set_configuration": set_configuration,
        "update_firmware": update_firmware, "upload_logs": upload_logs, "trigger": trigger,
    }


OPERATIONS: dict[str, Translate] = build()

"""OCPP 1.6 wording of the version-neutral operations (``services/operations.py``).

Each function gets the operation's checked arguments and returns the 1.6 command to send. 1.6
has no EVSEs: its connectors number the whole charger, so ``evse_id`` stands for the connector
of that number when ``connector_id`` is left out. What the command's effects fill in (the
reservation id, the list version, the diagnostics upload URL, the firmware URL) is left to
``services/command_effects.py``.
"""
from __future__ import annotations

from typing import Any

from ...services import operation_lookups
from ...services.errors import DomainError
from ...services.time import iso
from ..operations import Translate, Translation
from .handlers import id_tag_info

MAX_ID_TAG = 20  # CiString20Type
MAX_KEY = 50  # GetConfiguration/ChangeConfiguration key: CiString50Type

TRIGGERS = {
    "boot": "BootNotification",
    "heartbeat": "Heartbeat",
    "status": "StatusNotification",
    "meter_values": "MeterValues",
    "firmware_status": "FirmwareStatusNotification",
    "diagnostics_status": "DiagnosticsStatusNotification",
    "log_status": "DiagnosticsStatusNotification",
}


def _id_tag(args: dict) -> str:
    token = args["token"]
    if len(token) > MAX_ID_TAG:
        raise DomainError(f"token must be at most {MAX_ID_TAG} characters for OCPP 1.6")
    return token


def _connector(args: dict) -> int | None:
    return args["connector_id"] if args.get("connector_id") is not None else args.get("evse_id")


def _key(key: str, name: str = "key") -> str:
    if len(key) > MAX_KEY:
        raise DomainError(f"{name} must be at most {MAX_KEY} characters for OCPP 1.6")
    return key


def start(args: dict) -> Translation:
    payload: dict[str, Any] = {"idTag": _id_tag(args)}
    connector = _connector(args)
    if connector is not None:
        if connector == 0:
            raise DomainError("connector_id must be 1 or more to start a session")
        payload["connectorId"] = connector
    return Translation("RemoteStartTransaction", payload)


def stop(args: dict) -> Translation:
    # 1.6 chargers know a transaction by the CSMS's id (StartTransaction.conf gave it).
    return Translation("RemoteStopTransaction", {"transactionId": args["transaction_id"]})


def reset(args: dict) -> Translation:
    return Translation("Reset", {"type": "Hard" if args["hard"] else "Soft"})


def unlock(args: dict) -> Translation:
    if args["connector_id"] == 0:
        raise DomainError("connector_id must be 1 or more to unlock")
    return Translation("UnlockConnector", {"connectorId": args["connector_id"]})


def availability(args: dict) -> Translation:
    connector = _connector(args)
    return Translation("ChangeAvailability", {
        "connectorId": connector if connector is not None else 0,
        "type": "Operative" if args["operative"] else "Inoperative"})


def reserve(args: dict) -> Translation:
    connector = _connector(args)
    payload: dict[str, Any] = {"connectorId": connector if connector is not None else 0,
                               "idTag": _id_tag(args), "expiryDate": iso(args["expires_at"])}
    if args.get("reservation_id") is not None:
        payload["reservationId"] = args["reservation_id"]
    return Translation("ReserveNow", payload)


def cancel_reservation(args: dict) -> Translation:
    return Translation("CancelReservation", {"reservationId": args["reservation_id"]})


def publish_local_list(args: dict) -> Translation:
    entries = [{"idTag": token.value, "idTagInfo": id_tag_info(auth)}
               for token, auth in operation_lookups.local_list(MAX_ID_TAG)]
    # listVersion is the stored one plus 1 (the SendLocalList effect).
    return Translation("SendLocalList", {"updateType": "Full" if args["full"] else "Differential",
                                         "localAuthorizationList": entries})


def get_configuration(args: dict) -> Translation:
    keys = args.get("keys")
    payload = {"key": [_key(k, "keys") for k in keys]} if keys else {}
    return Translation("GetConfiguration", payload)


def set_configuration(args: dict) -> Translation:
    if len(args["value"]) > 500:
        raise DomainError("value must be at most 500 characters for OCPP 1.6")
    return Translation("ChangeConfiguration", {"key": _key(args["key"]), "value": args["value"]})


def update_firmware(args: dict) -> Translation:
    payload: dict[str, Any] = {}
    if args.get("retrieve_at") is not None:
        payload["retrieveDate"] = iso(args["retrieve_at"])
    options: dict[str, Any] = {}
    if args.get("firmware_file_id") is not None:
        options["firmware_file_id"] = args["firmware_file_id"]  # the effect fills location
    else:
        payload["location"] = args["location"]
    return Translation("UpdateFirmware", payload, options)


def upload_logs(args: dict) -> Translation:
    # The upload location is the app's own (the GetDiagnostics effect).
    payload: dict[str, Any] = {}
    if args.get("since") is not None:
        payload["startTime"] = iso(args["since"])
    if args.get("until") is not None:
        payload["stopTime"] = iso(args["until"])
    return Translation("GetDiagnostics", payload)


def trigger(args: dict) -> Translation:
    message = TRIGGERS.get(args["message"])
    if message is None:
        raise DomainError(f"OCPP 1.6 chargers cannot be asked for {args['message']}; one of: "
                          + ", ".join(TRIGGERS), 422)
    payload: dict[str, Any] = {"requestedMessage": message}
    connector = _connector(args)
    if connector is not None:
        payload["connectorId"] = connector
    return Translation("TriggerMessage", payload)


OPERATIONS: dict[str, Translate] = {
    "start": start, "stop": stop, "reset": reset, "unlock": unlock,
    "availability": availability, "reserve": reserve, "cancel_reservation": cancel_reservation,
    "publish_local_list": publish_local_list, "get_configuration": get_configuration,
    "set_configuration": set_configuration, "update_firmware": update_firmware,
    "upload_logs": upload_logs, "trigger": trigger,
}

"""What commands do to stored state, before they are sent (``prepare``) and after (``apply``).

Effects are keyed by the charger's version family ("1.6" or "2.x") and the action: 2.x reuses
action names with other payloads. Each effect reads the few wire fields it needs itself.

- GetConfiguration stores the reported keys; an accepted ChangeConfiguration updates its key.
- SendLocalList is built from stored tokens (when no list is given) and records the version;
  GetLocalListVersion records the version.
- ReserveNow and CancelReservation keep reservations and their status.
- UpdateFirmware creates a deployment the app serves under an expiring token.
- GetDiagnostics gets an upload URL the app accepts under an expiring token.
- ChangeAvailability keeps the requested and the confirmed state per connector.
- DataTransfer is stored like an incoming one.
- 2.x device model: GetVariables and SetVariables results are stored (and a request beyond the
  charger's reported ItemsPerMessage refused); GetBaseReport / GetReport get a requestId and
  note the report they asked for.
RemoteStartTransaction is linked to its transaction when the StartTransaction arrives.

2.x: ReserveNow and CancelReservation keep reservations (the EVSE id in ``connector_id``, 0 for
the station); ChangeAvailability keeps the state per EVSE (as ``connector_id``) or the station;
SendLocalList (built from stored tokens when no list is given) and GetLocalListVersion record
``versionNumber``; UpdateFirmware creates a deployment served like 1.6's, its ``requestId`` the
deployment's id; GetLog gets an upload URL like GetDiagnostics, its ``requestId`` the request's
id; an accepted SetDisplayMessage keeps the message as on the station (``display_messages``)
and an accepted ClearDisplayMessage clears it; other answers are noted on a known message.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, select

from .. import runtime
from ..extensions import db
from ..models import (
    Charger,
    Command,
    ConfigurationKey,
    Connector,
    DataTransfer,
    DiagnosticsRequest,
    DisplayMessage,
    FirmwareDeployment,
    FirmwareFile,
    IdToken,
    Reservation,
    utcnow,
)
from . import files, stations
from .errors import DomainError, InvalidReport
from .stations import MAX_CONNECTOR_ID
from .time import iso, parse_timestamp

# Integer columns are 32-bit on PostgreSQL: a number a charger reports is kept only if it fits.
INTEGER_MAX = 2**31 - 1


def _storable_int(value: Any) -> int | None:
    """``value`` as an int for an Integer column, or None when it is not one or does not fit."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if -INTEGER_MAX - 1 <= value <= INTEGER_MAX else None


def _id_field(value: Any, name: str, low: int = 0, high: int = INTEGER_MAX) -> int:
    """An id from a command's payload or options, within what the database stores."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise EffectError(400, f"{name} must be a whole number")
    if not low <= value <= high:
        raise EffectError(400, f"{name} must be from {low} to {high}")
    return value


class EffectError(DomainError):
    """A command's effect cannot be prepared as asked (written status first)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message, status)


Prepare = Callable[[Command, Charger, dict, dict], dict]
Apply = Callable[[Command, Charger], None]
# Keyed by (version family, action): 2.x reuses action names (ReserveNow, SendLocalList,
# UpdateFirmware, ChangeAvailability, ...) with other payloads.
_prepare: dict[tuple[str, str], Prepare] = {}
_apply: dict[tuple[str, str], Apply] = {}
V16, V2X = "1.6", "2.x"


def family(version: str | None) -> str:
    """"1.6" or "2.x": which payload shapes a charger of ``version`` (negotiated) uses."""
    return V16 if not version or version.startswith("1.") else V2X


def prepare(command: Command, charger: Charger, payload: dict, options: dict) -> dict:
    fn = _prepare.get((family(charger.ocpp_version), command.action))
    return fn(command, charger, payload, options) if fn else payload


def apply(command: Command, charger: Charger) -> None:
    fn = _apply.get((family(charger.ocpp_version), command.action))
    if fn:
        fn(command, charger)


def _on_prepare(action: str, *families: str):
    def register(fn: Prepare) -> Prepare:
        for name in families or (V16,):
            _prepare[(name, action)] = fn
        return fn
    return register


def _on_apply(action: str, *families: str):
    def register(fn: Apply) -> Apply:
        for name in families or (V16,):
            _apply[(name, action)] = fn
        return fn
    return register


def _accepted(command: Command, *statuses: str) -> bool:
    return (command.status == "completed"
            and (command.response or {}).get("status") in (statuses or ("Accepted",)))


# Configuration -----------------------------------------------------------------------------

def _set_key(charger_id: int, key: str, **values: Any) -> None:
    row = db.session.execute(select(ConfigurationKey).where(
        ConfigurationKey.charger_id == charger_id, ConfigurationKey.key == key)
    ).scalar_one_or_none()
    if row is None:
        row = ConfigurationKey(charger_id=charger_id, key=key)
        db.session.add(row)
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_at = utcnow()


@_on_apply("GetConfiguration")
def _got_configuration(command: Command, charger: Charger) -> None:
    if command.status != "completed":
        return
    for item in command.response.get("configurationKey") or ():
        _set_key(charger.id, item["key"], value=item.get("value"),
                 readonly=item.get("readonly"), unknown=False)
        if item["key"] == "HeartbeatInterval":
            interval = stations.parse_heartbeat_interval(item.get("value"))
            if interval is not None:
                charger.heartbeat_interval = interval
    for key in command.response.get("unknownKey") or ():
        _set_key(charger.id, key, unknown=True)


@_on_apply("ChangeConfiguration")
def _changed_configuration(command: Command, charger: Charger) -> None:
    if _accepted(command, "Accepted", "RebootRequired"):
        _set_key(charger.id, command.request["key"], value=command.request["value"],
                 unknown=False)
        if command.request["key"] == "HeartbeatInterval":
            try:
                interval = _storable_int(int(command.request["value"]))
            except ValueError:
                interval = None
            if interval is not None and interval >= 0:
                charger.heartbeat_interval = interval


# Local authorization list ------------------------------------------------------------------

def token_list_entries(accepted_only: bool = False) -> list[dict]:
    """Stored tokens as local list entries: all of them as stored, or only the Accepted ones
    that have not expired (what an operator publishes from the console)."""
    entries = []
    # 1.6 carries idTags of at most 20 characters: longer stored (2.x) tokens are left out.
    stmt = select(IdToken).where(func.length(IdToken.id_tag) <= 20).order_by(IdToken.id_tag)
    if accepted_only:
        stmt = stmt.where(IdToken.status == "Accepted")
    now = utcnow()
    for token in db.session.execute(stmt).scalars():
        if accepted_only and token.expiry_date is not None and token.expiry_date <= now:
            continue
        info: dict[str, Any] = {"status": token.status}
        if token.expiry_date is not None:
            info["expiryDate"] = iso(token.expiry_date)
        if token.parent_id_tag:
            info["parentIdTag"] = token.parent_id_tag
        entries.append({"idTag": token.id_tag, "idTagInfo": info})
    return entries


@_on_prepare("SendLocalList")
def _prepare_local_list(command: Command, charger: Charger, payload: dict, options: dict) -> dict:
    payload.setdefault("updateType", "Full")
    payload.setdefault("listVersion", (charger.local_list_version or 0) + 1)
    _id_field(payload["listVersion"], "listVersion", -INTEGER_MAX - 1)
    if "localAuthorizationList" not in payload:
        if payload["updateType"] != "Full":
            raise EffectError(400, "a Differential list needs localAuthorizationList")
        payload["localAuthorizationList"] = token_list_entries()
    return payload


@_on_apply("SendLocalList")
def _sent_local_list(command: Command, charger: Charger) -> None:
    if _accepted(command):
        charger.local_list_version = _storable_int(command.request["listVersion"])
        charger.local_list_updated_at = utcnow()


@_on_apply("GetLocalListVersion")
def _got_local_list_version(command: Command, charger: Charger) -> None:
    if command.status == "completed":
        # A version that does not fit is not stored (the reply keeps it).
        charger.local_list_version = _storable_int(command.response["listVersion"])
        charger.local_list_updated_at = utcnow()


# Reservations ------------------------------------------------------------------------------

@_on_prepare("ReserveNow")
def _prepare_reservation(command: Command, charger: Charger, payload: dict, options: dict) -> dict:
    for name in ("connectorId", "idTag", "expiryDate"):
        if name not in payload:
            return payload  # the schema check will name what is missing
    if "reservationId" not in payload:
        next_id = (db.session.execute(select(func.max(Reservation.id))).scalar() or 0) + 1
        payload["reservationId"] = next_id
    _id_field(payload["reservationId"], "reservationId")
    _id_field(payload["connectorId"], "connectorId", 0, MAX_CONNECTOR_ID)
    existing = db.session.get(Reservation, payload["reservationId"])
    if existing is not None and existing.charger_id != charger.id:
        raise EffectError(409, f"reservation {payload['reservationId']} belongs to another charger")
    try:
        expiry = parse_timestamp(payload["expiryDate"], "expiryDate")
    except InvalidReport as exc:  # report as a bad request
        raise EffectError(400, exc.message) from None
    reservation = existing or Reservation(id=payload["reservationId"], charger_id=charger.id)
    reservation.connector_id = payload["connectorId"]
    reservation.id_tag = payload["idTag"]
    reservation.parent_id_tag = payload.get("parentIdTag")
    reservation.expiry_date = expiry
    reservation.status = "requested"
    reservation.command_id = command.id
    reservation.updated_at = utcnow()
    db.session.add(reservation)
    return payload


@_on_apply("ReserveNow")
def _reserved(command: Command, charger: Charger) -> None:
    reservation = db.session.get(Reservation, command.request["reservationId"])
    if reservation is None:
        return
    if command.status == "completed":
        reservation.status = command.response["status"]
    else:
        reservation.status = command.status  # error | timeout
    reservation.updated_at = utcnow()


@_on_prepare("CancelReservation", V16, V2X)
def _prepare_cancel(command: Command, charger: Charger, payload: dict, options: dict) -> dict:
    if "reservationId" in payload:
        _id_field(payload["reservationId"], "reservationId")
    return payload


@_on_apply("CancelReservation", V16, V2X)
def _cancelled(command: Command, charger: Charger) -> None:
    reservation = db.session.get(Reservation, command.request["reservationId"])
    if reservation is not None and reservation.charger_id == charger.id and _accepted(command):
        reservation.status = "cancelled"
        reservation.updated_at = utcnow()


# Firmware ----------------------------------------------------------------------------------

def _new_deployment(command: Command, charger: Charger, firmware: dict, options: dict, *,
                    location: str, retrieve: str, where: str) -> FirmwareDeployment:
    """The deployment an UpdateFirmware starts, for either version: ``firmware`` is the dict
    holding ``location`` and ``retrieve`` (1.6: the payload; 2.x: its ``firmware``), filled in
    here when an uploaded file (``options["firmware_file_id"]``) is served or no time is given."""
    firmware.setdefault(retrieve, iso(utcnow()))
    deployment = FirmwareDeployment(charger_id=charger.id, command_id=command.id,
                                    status="requested")
    file_id = options.get("firmware_file_id")
    if file_id is not None:
        _id_field(file_id, "firmware_file_id", 1)
        stored = db.session.get(FirmwareFile, file_id)
        if stored is None:
            raise EffectError(404, f"no firmware file {file_id}")
        deployment.firmware_file_id = stored.id
        deployment.token = files.new_token()
        deployment.token_expires_at = files.token_expiry()
        firmware[location] = files.external_url("files.firmware_download",
                                                token=deployment.token, filename=stored.filename)
    elif location not in firmware:
        raise EffectError(400, f"UpdateFirmware needs {where}.{location} or firmware_file_id")
    deployment.location = firmware[location]
    try:
        deployment.retrieve_date = parse_timestamp(firmware[retrieve], retrieve)
    except InvalidReport as exc:
        raise EffectError(400, exc.message) from None
    db.session.add(deployment)
    return deployment


def _answered_status(command: Command) -> str:
    """A 2.x UpdateFirmware/GetLog outcome as a deployment's or upload's status."""
    if command.status != "completed":
        return command.status
    status = (command.response or {}).get("status")
    return "accepted" if status in ("Accepted", "AcceptedCanceled") else str(status).lower()[:32]


def _new_upload_request(command: Command, charger: Charger,
                        location: str | None) -> DiagnosticsRequest:
    """The upload a GetDiagnostics (1.6) or GetLog (2.x) asks for: this server's upload URL
    under an expiring token unless the operator named another place."""
    token = files.new_token()
    request = DiagnosticsRequest(
        charger_id=charger.id, command_id=command.id, token=token,
        token_expires_at=files.token_expiry(),
        location=location or files.external_url("files.diagnostics_upload", token=token))
    db.session.add(request)
    return request


@_on_prepare("UpdateFirmware")
def _prepare_firmware(command: Command, charger: Charger, payload: dict, options: dict) -> dict:
    _new_deployment(command, charger, payload, options, location="location",
                    retrieve="retrieveDate", where="payload")
    return payload


@_on_apply("UpdateFirmware")
def _firmware_sent(command: Command, charger: Charger) -> None:
    deployment = db.session.execute(select(FirmwareDeployment).where(
        FirmwareDeployment.command_id == command.id)).scalar_one_or_none()
    if deployment is not None:
        deployment.status = "accepted" if command.status == "completed" else command.status
        deployment.updated_at = utcnow()


# Diagnostics -------------------------------------------------------------------------------

@_on_prepare("GetDiagnostics")
def _prepare_diagnostics(command: Command, charger: Charger, payload: dict, options: dict) -> dict:
    payload["location"] = _new_upload_request(command, charger, payload.get("location")).location
    return payload


@_on_apply("GetDiagnostics")
def _diagnostics_sent(command: Command, charger: Charger) -> None:
    request = db.session.execute(select(DiagnosticsRequest).where(
        DiagnosticsRequest.command_id == command.id)).scalar_one_or_none()
    if request is None:
        return
    if command.status == "completed":
        request.file_name = command.response.get("fileName")
        request.status = "accepted" if request.file_name else "nothing to upload"
    else:
        request.status = command.status
    request.updated_at = utcnow()


# Availability ------------------------------------------------------------------------------

def _connectors_for(charger: Charger, connector_id: int) -> list[Connector]:
    existing = {c.connector_id: c for c in charger.connectors}
    if connector_id == 0:
        targets = [existing.get(0) or Connector(charger_id=charger.id, connector_id=0)]
        targets += [c for cid, c in existing.items() if cid != 0]
    else:
        targets = [existing.get(connector_id)
                   or Connector(charger_id=charger.id, connector_id=connector_id)]
    for connector in targets:
        if connector.id is None:
            db.session.add(connector)
    return targets


@_on_prepare("ChangeAvailability")
def _prepare_availability(command: Command, charger: Charger, payload: dict,
                          options: dict) -> dict:
    if "connectorId" in payload:
        _id_field(payload["connectorId"], "connectorId", 0, MAX_CONNECTOR_ID)
    if isinstance(payload.get("connectorId"), int) and payload.get("type") in ("Inoperative",
                                                                               "Operative"):
        for connector in _connectors_for(charger, payload["connectorId"]):
            connector.requested_availability = payload["type"]
    return payload


@_on_apply("ChangeAvailability")
def _availability_changed(command: Command, charger: Charger) -> None:
    result = command.response.get("status") if command.status == "completed" else command.status
    for connector in _connectors_for(charger, command.request["connectorId"]):
        connector.availability_status = result
        if result == "Accepted":
            connector.availability = command.request["type"]
        connector.updated_at = utcnow()


# DataTransfer ------------------------------------------------------------------------------

@_on_apply("DataTransfer")
def _data_transferred(command: Command, charger: Charger) -> None:
    response = command.response or {}
    db.session.add(DataTransfer(
        charger_id=charger.id, direction="out", vendor_id=command.request["vendorId"],
        message_id=command.request.get("messageId"), data=command.request.get("data"),
        status=response.get("status") or command.status, response_data=response.get("data"),
    ))


# OCPP 2.x ----------------------------------------------------------------------------------
# The same stored state as 1.6, from 2.x payloads.

def _v2_local_list_entries(charger: Charger) -> list[dict]:
    # Worded by the 2.x adapter, as the publish_local_list operation's list is.
    from ..ocpp.v201.tokens import local_list_entry
    from .operation_lookups import local_list

    limit = runtime.ocpp_versions(current_app).get(charger.ocpp_version).max_token
    return [local_list_entry(token, auth) for token, auth in local_list(limit)]


@_on_prepare("SendLocalList", V2X)
def _prepare_local_list_v2(command: Command, charger: Charger, payload: dict,
                           options: dict) -> dict:
    payload.setdefault("updateType", "Full")
    payload.setdefault("versionNumber", (charger.local_list_version or 0) + 1)
    _id_field(payload["versionNumber"], "versionNumber", -INTEGER_MAX - 1)
    if "localAuthorizationList" not in payload and payload["updateType"] == "Full":
        entries = _v2_local_list_entries(charger)
        if entries:  # at least one entry, or none at all (an empty Full list)
            payload["localAuthorizationList"] = entries
    return payload


@_on_apply("SendLocalList", V2X)
def _sent_local_list_v2(command: Command, charger: Charger) -> None:
    if _accepted(command):
        charger.local_list_version = _storable_int(command.request["versionNumber"])
        charger.local_list_updated_at = utcnow()


@_on_apply("GetLocalListVersion", V2X)
def _got_local_list_version_v2(command: Command, charger: Charger) -> None:
    if command.status == "completed":
        charger.local_list_version = _storable_int(command.response["versionNumber"])
        charger.local_list_updated_at = utcnow()


@_on_prepare("RequestStartTransaction", V2X)
def _prepare_request_start(command: Command, charger: Charger, payload: dict,
                           options: dict) -> dict:
    """Keep the remoteStartId on the command, whoever chose it (an operation or a raw command):
    the charger's TransactionEvents repeat it, and that links the transaction to the command
    (``services/transaction_events``)."""
    if "remoteStartId" in payload:
        command.remote_start_id = _id_field(payload["remoteStartId"], "remoteStartId",
                                            -INTEGER_MAX - 1)
    return payload


@_on_prepare("ReserveNow", V2X)
def _prepare_reservation_v2(command: Command, charger: Charger, payload: dict,
                            options: dict) -> dict:
    token = (payload.get("idToken") or {}).get("idToken")
    if token is None or "expiryDateTime" not in payload:
        return payload  # the schema check will name what is missing
    if "id" not in payload:
        payload["id"] = (db.session.execute(select(func.max(Reservation.id))).scalar() or 0) + 1
    _id_field(payload["id"], "id")
    evse_id = payload.get("evseId", 0)
    _id_field(evse_id, "evseId", 0, MAX_CONNECTOR_ID)
    existing = db.session.get(Reservation, payload["id"])
    if existing is not None and existing.charger_id != charger.id:
        raise EffectError(409, f"reservation {payload['id']} belongs to another charger")
    try:
        expiry = parse_timestamp(payload["expiryDateTime"], "expiryDateTime")
    except InvalidReport as exc:
        raise EffectError(400, exc.message) from None
    reservation = existing or Reservation(id=payload["id"], charger_id=charger.id)
    # No evse_id column: a 2.x reservation keeps its EVSE where 1.6 keeps its connector.
    reservation.connector_id = evse_id
    reservation.id_tag = token
    reservation.parent_id_tag = (payload.get("groupIdToken") or {}).get("idToken")
    reservation.expiry_date = expiry
    reservation.status = "requested"
    reservation.command_id = command.id
    reservation.updated_at = utcnow()
    db.session.add(reservation)
    return payload


@_on_apply("ReserveNow", V2X)
def _reserved_v2(command: Command, charger: Charger) -> None:
    reservation = db.session.get(Reservation, command.request["id"])
    if reservation is None:
        return
    reservation.status = (command.response["status"] if command.status == "completed"
                          else command.status)
    reservation.updated_at = utcnow()


def _v2_availability_targets(charger: Charger, request: dict) -> list[Connector]:
    """The connectors a 2.x ChangeAvailability is about: the whole station (no EVSE, or EVSE 0),
    every connector of one EVSE, or one connector of it. Connectors are told apart by
    (evse_id, connector_id): two EVSEs each have a connector 1."""
    evse = request.get("evse") or {}
    evse_id, connector_id = evse.get("id", 0), evse.get("connectorId")
    known = list(charger.connectors)
    if evse_id == 0:
        station = next((c for c in known if c.connector_id == 0 and c.evse_id in (0, None)),
                       None)
        targets = [station] if station is not None else [
            Connector(charger_id=charger.id, evse_id=0, connector_id=0)]
        targets += [c for c in known if c is not station]
    else:
        targets = [c for c in known if c.evse_id == evse_id
                   and (connector_id is None or c.connector_id == connector_id)] or [
            Connector(charger_id=charger.id, evse_id=evse_id, connector_id=connector_id or 1)]
    for connector in targets:
        if connector.id is None:
            db.session.add(connector)
    return targets


@_on_prepare("ChangeAvailability", V2X)
def _prepare_availability_v2(command: Command, charger: Charger, payload: dict,
                             options: dict) -> dict:
    evse = payload.get("evse")
    if isinstance(evse, dict) and "id" in evse:
        _id_field(evse["id"], "evse.id", 0, MAX_CONNECTOR_ID)
    if payload.get("operationalStatus") in ("Inoperative", "Operative") and (
            evse is None or isinstance(evse, dict) and "id" in evse):
        for connector in _v2_availability_targets(charger, payload):
            connector.requested_availability = payload["operationalStatus"]
    return payload


@_on_apply("ChangeAvailability", V2X)
def _availability_changed_v2(command: Command, charger: Charger) -> None:
    result = command.response.get("status") if command.status == "completed" else command.status
    for connector in _v2_availability_targets(charger, command.request):
        connector.availability_status = result
        if result == "Accepted":
            connector.availability = command.request["operationalStatus"]
        connector.updated_at = utcnow()


@_on_prepare("UpdateFirmware", V2X)
def _prepare_firmware_v2(command: Command, charger: Charger, payload: dict,
                         options: dict) -> dict:
    firmware = dict(payload.get("firmware") or {})
    deployment = _new_deployment(command, charger, firmware, options, location="location",
                                 retrieve="retrieveDateTime", where="payload.firmware")
    db.session.flush()
    # FirmwareStatusNotification names the requestId: the deployment's id links it.
    payload.setdefault("requestId", deployment.id)
    payload["firmware"] = firmware
    return payload


@_on_apply("UpdateFirmware", V2X)
def _firmware_sent_v2(command: Command, charger: Charger) -> None:
    deployment = db.session.execute(select(FirmwareDeployment).where(
        FirmwareDeployment.command_id == command.id)).scalar_one_or_none()
    if deployment is None:
        return
    deployment.status = _answered_status(command)
    deployment.updated_at = utcnow()


@_on_prepare("GetLog", V2X)
def _prepare_log(command: Command, charger: Charger, payload: dict, options: dict) -> dict:
    log_params = dict(payload.get("log") or {})
    request = _new_upload_request(command, charger, log_params.get("remoteLocation"))
    log_params["remoteLocation"] = request.location
    payload["log"] = log_params
    payload.setdefault("logType", "DiagnosticsLog")
    db.session.flush()
    # LogStatusNotification names the requestId: the request's id links it.
    payload.setdefault("requestId", request.id)
    return payload


@_on_apply("GetLog", V2X)
def _log_requested(command: Command, charger: Charger) -> None:
    request = db.session.execute(select(DiagnosticsRequest).where(
        DiagnosticsRequest.command_id == command.id)).scalar_one_or_none()
    if request is None:
        return
    if command.status == "completed":
        request.file_name = command.response.get("filename")
    request.status = _answered_status(command)
    request.updated_at = utcnow()


# Device model (2.x) ------------------------------------------------------------------------
# Only 2.x has these actions. The 2.x adapter turns the
# wire request and response into domain values; the device model service stores them.

def _v201():
    # Imported when used: the adapter imports the services, not the other way round at load.
    from ..ocpp.v201 import device_model as adapter

    return adapter


def _check_items_per_message(command: Command, charger: Charger, payload: dict,
                             options: dict) -> dict:
    from . import device_model

    limit = device_model.reported_items_per_message(charger.id, command.action)
    count = _v201().request_item_count(command.action, payload)
    if limit is not None and count > limit:
        raise EffectError(422, f"{charger.identity} takes at most {limit} items per "
                               f"{command.action} (DeviceDataCtrlr.ItemsPerMessage); "
                               f"this one has {count}: send them in several commands")
    return payload


_on_prepare("GetVariables", V2X)(_check_items_per_message)
_on_prepare("SetVariables", V2X)(_check_items_per_message)


@_on_apply("GetVariables", V2X)
@_on_apply("SetVariables", V2X)
def _variables_answered(command: Command, charger: Charger) -> None:
    from . import device_model

    if command.status != "completed":
        return
    results = _v201().variable_results(command.action, command.request, command.response or {})
    record = (device_model.record_get_results if command.action == "GetVariables"
              else device_model.record_set_results)
    record(db.session.connection(), charger.id, results, utcnow())


@_on_prepare("GetBaseReport", V2X)
@_on_prepare("GetReport", V2X)
def _prepare_report(command: Command, charger: Charger, payload: dict, options: dict) -> dict:
    from ..models import DeviceReport, DeviceReportPart

    if "requestId" not in payload:
        # The next requestId of this charger: NotifyReport parts are matched to it.
        last = db.session.execute(select(func.max(DeviceReport.request_id)).where(
            DeviceReport.charger_id == charger.id)).scalar()
        payload["requestId"] = (last or 0) + 1
    _id_field(payload["requestId"], "requestId", -INTEGER_MAX - 1)
    # A requestId used again starts a new series: the old one's parts would otherwise make the
    # new parts look like retries. Done before sending, so no new part can be lost to it.
    old = db.session.execute(select(DeviceReport).where(
        DeviceReport.charger_id == charger.id,
        DeviceReport.request_id == payload["requestId"])).scalar_one_or_none()
    if old is not None:
        db.session.execute(delete(DeviceReportPart).where(DeviceReportPart.report_id == old.id))
        db.session.delete(old)
    return payload


@_on_apply("GetBaseReport", V2X)
@_on_apply("GetReport", V2X)
def _report_answered(command: Command, charger: Charger) -> None:
    from . import device_model

    request_id, base, status = _v201().report_request(command.action, command.request,
                                                      command.response)
    device_model.report_requested(db.session.connection(), charger.id, request_id, base,
                                  command.id, status or command.status, utcnow())


# Display messages (2.x) --------------------------------------------------------------------

def _display_message(charger_id: int, message_id: Any) -> DisplayMessage | None:
    return db.session.execute(select(DisplayMessage).where(
        DisplayMessage.charger_id == charger_id, DisplayMessage.message_id == message_id)
    ).scalar_one_or_none()


@_on_apply("SetDisplayMessage", V2X)
def _display_message_set(command: Command, charger: Charger) -> None:
    info = command.request["message"]
    result = command.response.get("status") if command.status == "completed" else command.status
    row = _display_message(charger.id, info["id"])
    if result != "Accepted":
        if row is not None:  # the one on the station stays; the refusal is noted
            row.last_status, row.command_id, row.updated_at = result, command.id, utcnow()
        return
    if row is None:
        row = DisplayMessage(charger_id=charger.id, message_id=info["id"])
        db.session.add(row)
    row.priority, row.state = info["priority"], info.get("state")
    row.transaction_id, row.info, row.source = info.get("transactionId"), info, "csms"
    row.last_status, row.command_id = result, command.id
    row.updated_at, row.cleared_at = utcnow(), None


@_on_apply("ClearDisplayMessage", V2X)
def _display_message_cleared(command: Command, charger: Charger) -> None:
    row = _display_message(charger.id, command.request["id"])
    if row is None:
        return
    result = command.response.get("status") if command.status == "completed" else command.status
    row.last_status, row.command_id, row.updated_at = result, command.id, utcnow()
    # Unknown: the station does not have it (any more), so it is not shown either.
    if result in ("Accepted", "Unknown"):
        row.cleared_at = row.cleared_at or utcnow()

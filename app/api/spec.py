"""The OpenAPI 3.1 document of ``/api/v1``, written out by hand so it can say what each field
means. ``tests/api/test_openapi.py`` checks that it names every route the app serves.
"""
from __future__ import annotations

from typing import Any

from ..models.node import SCAN_RESULTS
from ..models.scheduled import ALERT_KINDS
from ..models.token import TOKEN_STATUSES
from ..ocpp.supported import build_registry
from ..ocpp.v16 import COMMANDS
from ..services.chargers import REGISTRATION_STATUSES
from ..services.node_features import FEATURES, ROLES
from ..services.values import TOKEN_TYPES

JSON = "application/json"
# The versions a charger can be pinned to, the server's preference first.
OCPP_VERSIONS = build_registry().names()


# Schema helpers ----------------------------------------------------------------------------

def t(type_: str, description: str | None = None, *, null: bool = False, **extra: Any) -> dict:
    """A JSON Schema of one type; ``null`` allows null too (OpenAPI 3.1 style)."""
    schema: dict[str, Any] = {"type": [type_, "null"] if null else type_, **extra}
    if description:
        schema["description"] = description
    return schema


def time_(description: str | None = None, null: bool = True) -> dict:
    return t("string", description, null=null, format="date-time")


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict[str, dict], required: list[str] | None = None,
        description: str | None = None, additional: bool = True) -> dict:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    if description:
        schema["description"] = description
    if not additional:
        schema["additionalProperties"] = False
    return schema


def sometimes(schema: dict) -> dict:
    """A response field that only some answers carry: the strict form does not require it."""
    return {**schema, OPTIONAL: True}


OPTIONAL = "x-optional"


def array(items: dict, description: str | None = None) -> dict:
    return {"type": "array", "items": items, **({"description": description} if description
                                                 else {})}


def page_of(name: str) -> dict:
    return obj({
        "items": array(ref(name)),
        "page": t("integer", "this page, from 1"),
        "per_page": t("integer", "items per page (at most 500)"),
        "total": t("integer", "items matching the filters, over all pages"),
    }, ["items", "page", "per_page", "total"], f"A page of {name} items.")


STATUS_ENTRY = obj({"status": t("string"), "received_at": time_()})

SCHEMAS: dict[str, dict] = {
    "Error": obj({
        "error": t("string", "the HTTP reason, e.g. Bad Request"),
        "message": t("string", "what went wrong and how to fix it"),
    }, ["error", "message"]),
    "Connector": obj({
        "evse_id": t("integer", "the EVSE (2.x); for 1.6 the connector id: each 1.6 connector "
                     "is its own EVSE, 0 the whole station", null=True),
        "connector_id": t("integer", "0 is the whole station; 2.x numbers from 1 per EVSE"),
        "status": t("string", "last StatusNotification status", null=True),
        "error_code": t("string", null=True),
        "info": t("string", null=True),
        "status_timestamp": time_("when the charger says the status began"),
        "availability": t("string", "Operative or Inoperative, as last confirmed", null=True),
        "requested_availability": t("string", "what ChangeAvailability last asked for",
                                    null=True),
    }),
    "Charger": obj({
        "id": t("string", "the charger identity (last segment of its websocket URL)"),
        "connected": t("boolean", "whether a websocket to it is open now"),
        "ocpp_version": t("string", "the version its latest connection negotiated", null=True),
        "ocpp_version_pin": t("string", "the only version it may negotiate (from its next "
                              "connection on); null: the server's preference, 2.1 > 2.0.1 > 1.6",
                              null=True, enum=[*OCPP_VERSIONS, None]),
        "vendor": t("string", null=True),
        "model": t("string", null=True),
        "serial_number": t("string", null=True),
        "firmware_version": t("string", null=True),
        "last_heartbeat": time_("last time anything was heard from it"),
        "description": t("string", null=True),
        "enabled": t("boolean"),
        "registration_status": t("string", "the answer BootNotification gets",
                                 enum=list(REGISTRATION_STATUSES)),
        "auto_enrolled": t("boolean", "registered by its first connection"),
        "charge_box_serial_number": t("string", null=True),
        "iccid": t("string", null=True),
        "imsi": t("string", null=True),
        "meter_type": t("string", null=True),
        "meter_serial_number": t("string", null=True),
        "last_boot_reason": t("string", "why it last booted (2.x: PowerUp, FirmwareUpdate, "
                              "RemoteReset, ...); null for 1.6", null=True),
        "local_list_version": t("integer", null=True),
        "heartbeat_interval": t("integer", "seconds: what the Accepted boot reply told the "
                                "charger, or what it last reported (GetConfiguration) or "
                                "accepted (ChangeConfiguration)", null=True),
        "last_boot_at": time_(),
        "connected_at": time_(),
        "disconnected_at": time_(),
        "lenient": t("boolean", "schema violations are recorded, the message still processed"),
        "created_at": time_(),
        "decommissioned_at": time_("set while the charger is decommissioned (DELETE)"),
        "connectors": array(ref("Connector"), "ordered by evse_id, connector_id"),
    }),
    "ChargerCreate": obj({
        "identity": t("string", "1 to 64 characters, no '/'", minLength=1, maxLength=64),
        "description": t("string", null=True, maxLength=255),
        "enabled": t("boolean", default=True),
        "registration_status": t("string", enum=list(REGISTRATION_STATUSES),
                                 default="accepted"),
        "ocpp_version_pin": t("string", "null clears the pin", null=True,
                              enum=[*OCPP_VERSIONS, None]),
        "lenient": t("boolean", default=False),
    }, ["identity"], additional=False),
    "ChargerUpdate": obj({
        "description": t("string", null=True, maxLength=255),
        "enabled": t("boolean"),
        "registration_status": t("string", enum=list(REGISTRATION_STATUSES)),
        "ocpp_version_pin": t("string", "null clears the pin", null=True,
                              enum=[*OCPP_VERSIONS, None]),
        "lenient": t("boolean"),
    }, additional=False),
    "Transaction": obj({
        "id": t("integer", "ours: the transactionId given to a 1.6 charger"),
        "charger": t("string", "charger identity", null=True),
        "connector_id": t("integer", null=True),
        "id_tag": t("string", null=True),
        "meter_start": t("integer", "Wh", null=True),
        "meter_stop": t("integer", "Wh", null=True),
        "energy_wh": t("number", "meter_stop - meter_start; null when that is negative "
                       "(meter_anomaly)", null=True),
        "meter_anomaly": t("boolean", "the meter went backwards (meter_stop < meter_start): "
                           "the charger's numbers are kept, no energy is counted"),
        "energy_so_far_wh": t("number", "a running transaction's energy so far: its newest "
                              "Energy.Active.Import.Register reading - meter_start (null when "
                              "stopped or before the first reading)", null=True),
        "started_at": time_(),
        "stopped_at": time_(),
        "stop_reason": t("string", null=True),
        "state": t("string", enum=["active", "stopped"]),
        "unmatched_stop": t("boolean", "a StopTransaction for a transaction never started here"),
        "reported_transaction_id": t("integer", "the id an unmatched stop used", null=True),
        "reservation_id": t("integer", null=True),
        "closed_by": t("string", "the user who closed it by hand (POST .../close), until the "
                       "charger's own StopTransaction replaces that", null=True),
        "charger_transaction_id": t("string", "OCPP 2.x: the charger's own transactionId "
                                    "(unique per charger); null for 1.6, whose id is ours",
                                    null=True, maxLength=36),
        "evse_id": t("integer", "OCPP 2.x: the EVSE (connector_id is the connector on it); "
                     "null for 1.6", null=True),
        "stopped_reason": t("string", "OCPP 2.x: the stoppedReason as sent (stop_reason holds "
                            "it too, or Local when it was left out); null for 1.6", null=True),
        "remote_start_id": t("integer", "OCPP 2.x: the remoteStartId of the "
                             "RequestStartTransaction that led to it; null for 1.6", null=True),
    }),
    "TransactionClose": obj({
        "meter_stop": t("integer", "Wh; default: the newest Energy.Active.Import.Register "
                        "reading (none: the energy stays unknown)", minimum=0),
        "reason": t("string", "the stop reason", default="ClosedByOperator", minLength=1,
                    maxLength=32),
    }, additional=False),
    "AuditEvent": obj({
        "id": t("integer"),
        "created_at": time_(null=False),
        "actor": t("string", "user name", null=True),
        "source": t("string", "api, console, job or rfid (a card at the node's reader)"),
        "action": t("string", enum=["charger.decommissioned", "charger.recommissioned",
                                    "charger.deleted", "transaction.closed"]),
        "charger": t("string", "charger identity", null=True),
        "target": t("string", "e.g. the transaction id", null=True),
        "details": t("object"),
    }),
    "MeterValue": obj({
        "timestamp": time_(),
        "measurand": t("string"),
        "value": t("number", "normalised to base units (Wh, W, varh, var, VA)", null=True),
        "unit": t("string", "unit of value", null=True),
        "phase": t("string", null=True),
        "context": t("string", null=True),
        "location": t("string", null=True),
        "raw_value": t("string", "the value as sent"),
        "raw_unit": t("string", "the unit as sent", null=True),
    }),
    "Token": obj({
        "id_tag": t("string", maxLength=255),
        "type": t("string", "the 2.x IdTokenType; null for a 1.6 idTag. Not part of the "
                  "match: the same value of any type is one token", null=True,
                  enum=[*TOKEN_TYPES, None]),
        "status": t("string", enum=list(TOKEN_STATUSES)),
        "expiry_date": time_(),
        "parent_id_tag": t("string", null=True, maxLength=255),
        "note": t("string", null=True),
        "auto_created": t("boolean", "recorded when an unknown tag was let through"),
        "created_at": time_(),
        "updated_at": time_(),
    }),
    "TokenCreate": obj({
        "id_tag": t("string", "1 to 255 characters (OCPP 2.1 IdToken; 2.0.1 chargers take "
                    "up to 36, 1.6 up to 20); stored as given, matched ignoring case, as "
                    "OCPP's CiString is (409 if it exists in any case)",
                    minLength=1, maxLength=255),
        "type": t("string", "the 2.x IdTokenType; null for a 1.6 idTag. Not part of the "
                  "match: the same value of any type is one token", null=True,
                  enum=[*TOKEN_TYPES, None]),
        "status": t("string", enum=list(TOKEN_STATUSES), default="Accepted"),
        "expiry_date": time_("ISO 8601; without a zone, UTC"),
        "parent_id_tag": t("string", null=True, maxLength=255),
        "note": t("string", null=True, maxLength=255),
    }, ["id_tag"], additional=False),
    "TokenUpdate": obj({
        "type": t("string", "the 2.x IdTokenType; null for a 1.6 idTag. Not part of the "
                  "match: the same value of any type is one token", null=True,
                  enum=[*TOKEN_TYPES, None]),
        "status": t("string", enum=list(TOKEN_STATUSES)),
        "expiry_date": time_("ISO 8601; without a zone, UTC"),
        "parent_id_tag": t("string", null=True, maxLength=255),
        "note": t("string", null=True, maxLength=255),
    }, additional=False),
    "Reservation": obj({
        "id": t("integer", "the OCPP reservationId"),
        "charger": t("string", null=True),
        "connector_id": t("integer"),
        "id_tag": t("string"),
        "parent_id_tag": t("string", null=True),
        "expiry_date": time_(),
        "status": t("string", "requested, Accepted, Faulted, Occupied, Rejected, Unavailable, "
                              "cancelled, used, error or timeout"),
        "command_id": t("integer", null=True),
        "transaction_id": t("integer", null=True),
        "created_at": time_(),
        "updated_at": time_(),
    }),
    "ConfigurationKey": obj({
        "key": t("string"),
        "value": t("string", null=True),
        "readonly": t("boolean", null=True),
        "unknown": t("boolean", "the charger listed the key as unknown"),
        "updated_at": time_(),
    }),
    "FirmwareFile": obj({
        "id": t("integer"),
        "filename": t("string"),
        "size": t("integer", "bytes"),
        "sha256": t("string"),
        "description": t("string", null=True),
        "uploaded_by": t("string", null=True),
        "uploaded_at": time_(),
    }),
    "FirmwareUpload": obj({
        "file": t("string", "the firmware image", format="binary",
                  contentMediaType="application/octet-stream"),
        "description": t("string", maxLength=255),
    }, ["file"]),
    "FirmwareDeployment": obj({
        "id": t("integer"),
        "charger": t("string", null=True),
        "firmware_file_id": t("integer", null=True),
        "location": t("string", "the URL the charger was told to download from"),
        "status": t("string", "requested, accepted, error, timeout, or the latest "
                              "FirmwareStatusNotification status"),
        "retrieve_date": time_(),
        "downloads": t("integer", "times the charger fetched the file"),
        "command_id": t("integer", null=True),
        "created_at": time_(),
        "updated_at": time_(),
        "status_history": array(STATUS_ENTRY, "FirmwareStatusNotifications, oldest first"),
    }),
    "DiagnosticsFile": obj({
        "id": t("integer"),
        "request_id": t("integer"),
        "filename": t("string"),
        "size": t("integer"),
        "sha256": t("string"),
        "received_at": time_(),
    }),
    "DiagnosticsRequest": obj({
        "id": t("integer"),
        "charger": t("string", null=True),
        "command_id": t("integer", null=True),
        "status": t("string"),
        "file_name": t("string", "the name GetDiagnostics.conf announced", null=True),
        "location": t("string", "the upload URL given to the charger"),
        "created_at": time_(),
        "updated_at": time_(),
        "files": array(ref("DiagnosticsFile")),
        "status_history": array(STATUS_ENTRY, "DiagnosticsStatusNotifications, oldest first"),
    }),
    "StatusNotification": obj({
        "id": t("integer"),
        "connector_id": t("integer"),
        "status": t("string"),
        "error_code": t("string"),
        "info": t("string", null=True),
        "vendor_id": t("string", null=True),
        "vendor_error_code": t("string", null=True),
        "timestamp": time_("the charger's time"),
        "received_at": time_("our time"),
    }),
    "Message": obj({
        "id": t("integer"),
        "direction": t("string", enum=["in", "out"]),
        "created_at": time_(),
        "message_type": t("integer", "2 CALL, 3 CALLRESULT, 4 CALLERROR", null=True),
        "message_id": t("string", null=True),
        "action": t("string", null=True),
        "frame": t("string", "the frame as sent over the websocket"),
    }),
    "DataTransfer": obj({
        "id": t("integer"),
        "charger": t("string", null=True),
        "direction": t("string", "in: from the charger; out: a DataTransfer command",
                       enum=["in", "out"]),
        "vendor_id": t("string"),
        "message_id": t("string", null=True),
        "data": t("string", null=True),
        "status": t("string", null=True),
        "response_data": t("string", null=True),
        "created_at": time_(),
    }),
    "SecurityEvent": obj({
        "id": t("integer"),
        "charger": t("string", "its identity; null when no charger is known (source csms)",
                     null=True),
        "source": t("string", "charger: a SecurityEventNotification; csms: seen by the CSMS",
                    enum=["charger", "csms"]),
        "type": t("string", "FirmwareUpdated, InvalidTLSVersion, ... (an open list)"),
        "timestamp": time_("when it happened, by the reporter's clock"),
        "tech_info": t("string", null=True),
        "received_at": time_("when it was stored"),
    }),
    "ChargerEvent": obj({
        "id": t("integer"),
        "event_id": t("integer", "the charger's eventId"),
        "timestamp": time_("when it happened, by the charger's clock"),
        "trigger": t("string", "Alerting, Delta or Periodic"),
        "cause": t("integer", "the eventId of the event that caused it", null=True),
        "actual_value": t("string"),
        "notification_type": t("string", "HardWiredNotification, HardWiredMonitor, "
                               "PreconfiguredMonitor or CustomMonitor"),
        "component": t("string"),
        "component_instance": t("string", null=True),
        "evse_id": t("integer", null=True),
        "connector_id": t("integer", null=True),
        "variable": t("string"),
        "variable_instance": t("string", null=True),
        "cleared": t("boolean", "a monitored situation returned to normal"),
        "problem": t("boolean", "a fault: Problem true or AvailabilityState Faulted, not "
                     "cleared"),
        "tech_code": t("string", null=True),
        "tech_info": t("string", null=True),
        "charger_transaction_id": t("string", "the charger's transactionId", null=True),
        "variable_monitoring_id": t("integer", null=True),
        "generated_at": time_("when the charger made the NotifyEvent"),
        "seq_no": t("integer", "the NotifyEvent's seqNo"),
        "received_at": time_(),
    }),
    "DisplayMessage": obj({
        "message_id": t("integer", "the message's id on the station"),
        "priority": t("string", "AlwaysFront, InFront or NormalCycle"),
        "state": t("string", "only shown in this charging state (Charging, Faulted, Idle, "
                   "Unavailable, ...)", null=True),
        "transaction_id": t("string", "only shown during this transaction of the charger's",
                            null=True),
        "message": t("object", "the messageInfo as sent or reported (OCPP's camelCase: "
                     "message content, display, times)", null=True),
        "source": t("string", "csms: set by SetDisplayMessage; station: found by "
                    "GetDisplayMessages", enum=["csms", "station"]),
        "last_status": t("string", "the charger's answer to the last Set or Clear of it",
                         null=True),
        "command_id": t("integer", "the command that last set or cleared it", null=True),
        "updated_at": time_(),
        "cleared_at": time_("when an accepted ClearDisplayMessage removed it", null=True),
    }),
    "CommandRequest": obj({
        "action": t("string", "an OCPP 1.6 CSMS-initiated action", enum=list(COMMANDS)),
        "payload": t("object", "the OCPP request payload (camelCase, as in the spec)"),
        "timeout": t("number", "seconds to wait for the answer (default OCPP_CALL_TIMEOUT, "
                               "at most 300)"),
        "wait": t("boolean", "answer once the charger replied (200), or at once (202)",
                  default=True),
        "firmware_file_id": t("integer", "UpdateFirmware: serve this uploaded file; the "
                                         "location is filled in"),
    }, ["action"]),
    "Command": obj({
        "id": t("integer"),
        "charger": t("string"),
        "action": t("string"),
        "status": t("string", enum=["pending", "completed", "error", "timeout"]),
        "request": t("object", "the payload sent", null=True),
        "response": t("object", "the charger's CALLRESULT payload", null=True),
        "requested_by": t("string", null=True),
        "source": t("string", "api, console or job"),
        "created_at": time_(),
        "completed_at": time_(),
        "duration_ms": t("number", null=True),
        "timeout": t("number"),
        "error": sometimes(obj({"code": t("string", null=True),
                                "description": t("string", null=True), "details": t("object")},
                               description="present when status is error")),
        "transaction_id": sometimes(t("integer", "RemoteStartTransaction (2.x "
                                      "RequestStartTransaction): the transaction it led to")),
        "remote_start_id": sometimes(t("integer", "2.x RequestStartTransaction: the "
                                       "remoteStartId it gave, which links the transaction")),
        "effect_error": sometimes(t("string", "the outcome is stored, but what it should "
                                    "change in the stored state (configuration, local list "
                                    "version, ...) failed")),
    }),
    "Operation": obj({
        "name": t("string", "the operation's name, e.g. start"),
        "description": t("string"),
        "arguments": array(obj({
            "name": t("string"),
            "type": t("string", "the JSON type", enum=["boolean", "integer", "string",
                                                       "array"]),
            "required": t("boolean"),
            "default": sometimes({"description": "what it is when left out"}),
            "description": t("string"),
        }, ["name", "type", "required", "description"], additional=False)),
        "versions": array(t("string", enum=OCPP_VERSIONS), "the OCPP versions that can do it"),
    }, ["name", "description", "arguments", "versions"], additional=False),
    "OperationList": obj({"items": array(ref("Operation"))}, ["items"], additional=False),
    "BulkOperationRequest": obj({
        "operation": t("string", "a version-neutral operation (`GET /operations`), e.g. "
                       "update_firmware, set_configuration, publish_local_list, reset"),
        "args": t("object", "its arguments, the same for every charger"),
        "chargers": array(t("string"), "the chargers, by identity (or give filter)"),
        "filter": obj({
            "connected": t("boolean"), "ocpp_version": t("string"), "vendor": t("string"),
            "model": t("string"), "firmware_version": t("string"),
        }, description="every enabled charger in service matching all of these",
            additional=False),
        "max_in_flight": t("integer", "chargers at a time (1 to 100, default 10)",
                           minimum=1, maximum=100),
    }, required=["operation"], additional=False),
    "BulkOperation": obj({
        "id": t("integer"),
        "operation": t("string"),
        "args": t("object"),
        "selection": t("object", "chargers or filter, as given"),
        "status": t("string", "queued, running, finished, cancelled or failed",
                    enum=["queued", "running", "finished", "cancelled", "failed"]),
        "max_in_flight": t("integer"),
        "cancel_requested": t("boolean"),
        "requested_by": t("string", null=True),
        "job_id": t("string", "the RQ job running it (none on the embedded default)",
                    null=True),
        "error": t("string", "why the run itself failed", null=True),
        "total": t("integer", "chargers selected"),
        "done": t("integer", "chargers with a final result"),
        "counts": obj({name: t("integer") for name in (
            "waiting", "running", "completed", "rejected", "error", "cancelled")},
            description="chargers per result status"),
        "progress": t("number", "done / total, 0 to 1"),
        "created_at": time_(), "started_at": time_(), "finished_at": time_(),
    }),
    "BulkOperationResult": obj({
        "charger": t("string"),
        "status": t("string", "waiting, running, completed (taken), rejected (answered "
                    "otherwise), error (refused, not connected or no answer) or cancelled",
                    enum=["waiting", "running", "completed", "rejected", "error",
                          "cancelled"]),
        "command_id": t("integer", null=True),
        "detail": t("string", "the action and the charger's answer, or why not", null=True),
        "updated_at": time_(),
    }),
    "OperationArguments": obj({}, description="the operation's arguments (see "
                              "`GET /operations`), e.g. {\"token\": \"CARD-1\", \"evse_id\": 1} "
                              "for start; an empty body is no arguments"),
}
_VARIABLE_ATTRIBUTE = obj({
    "type": t("string", "Actual, Target, MinSet or MaxSet"),
    "value": t("string", "null for a WriteOnly attribute or one only a failed Get/Set named",
               null=True),
    "mutability": t("string", "ReadOnly, WriteOnly or ReadWrite; null when only "
                    "GetVariables/SetVariables told of it", null=True),
    "persistent": t("boolean", null=True),
    "constant": t("boolean", null=True),
    "last_status": t("string", "the latest GetVariables/SetVariables outcome (Accepted, "
                     "Rejected, RebootRequired, NotSupportedAttributeType)", null=True),
    "last_status_reason": t("string", "the charger's reasonCode for it", null=True),
    "last_status_at": time_(),
    "pending_value": t("string", "set to this value, applied at the next reboot "
                       "(RebootRequired)", null=True),
    "updated_at": time_(),
}, ["type", "value", "mutability", "persistent", "constant", "last_status",
    "last_status_reason", "last_status_at", "pending_value", "updated_at"], additional=False)
SCHEMAS["DeviceVariable"] = obj({
    "component": obj({
        "name": t("string"), "instance": t("string", null=True),
        "evse_id": t("integer", null=True), "connector_id": t("integer", null=True),
    }, ["name", "instance", "evse_id", "connector_id"], additional=False),
    "variable": obj({"name": t("string"), "instance": t("string", null=True)},
                    ["name", "instance"], additional=False),
    "attributes": array(_VARIABLE_ATTRIBUTE, "Actual, Target, MinSet, MaxSet as known"),
    "characteristics": {**obj({
        "data_type": t("string", "string, decimal, integer, dateTime, boolean, OptionList, "
                       "SequenceList or MemberList", null=True),
        "unit": t("string", null=True),
        "min_limit": t("number", null=True), "max_limit": t("number", null=True),
        "values_list": t("string", "the allowed values, comma-separated", null=True),
        "supports_monitoring": t("boolean", null=True),
    }, ["data_type", "unit", "min_limit", "max_limit", "values_list",
        "supports_monitoring"], "From the latest NotifyReport; null until a report "
        "describes the variable.", additional=False), "type": ["object", "null"]},
    "report_request_id": t("integer", "the requestId of the report that last described it",
                           null=True),
    "reported_at": time_("when the charger generated that report"),
    "updated_at": time_(),
}, ["component", "variable", "attributes", "characteristics", "report_request_id",
    "reported_at", "updated_at"], "One variable of one component of a 2.x charger.",
    additional=False)
SCHEMAS["DeviceReport"] = obj({
    "request_id": t("integer", "the requestId of GetBaseReport / GetReport"),
    "report_base": t("string", "ConfigurationInventory, FullInventory, SummaryInventory, or "
                     "Custom (GetReport); null when no command of ours asked for it", null=True),
    "command_id": t("integer", "the command that asked for it", null=True),
    "request_status": t("string", "the charger's answer to that command", null=True),
    "parts_received": t("integer", "NotifyReport parts stored (a retried part counts once)"),
    "items_received": t("integer", "variables in those parts"),
    "parts_expected": t("integer", "known once the last part (tbc false) is in", null=True),
    "complete": t("boolean", "the last part and every part before it are in"),
    "generated_at": time_("the earliest generatedAt of its parts"),
    "started_at": time_(),
    "updated_at": time_(),
    "completed_at": time_(),
}, ["request_id", "report_base", "command_id", "request_status", "parts_received",
    "items_received", "parts_expected", "complete", "generated_at", "started_at",
    "updated_at", "completed_at"], "A NotifyReport series of a 2.x charger.", additional=False)
SCHEMAS["Alert"] = obj({
    "id": t("integer"),
    "charger": t("string", "the charger's identity", null=True),
    "kind": t("string", "what was noticed: offline (silent for longer than its heartbeat "
                        "interval allows)", enum=list(ALERT_KINDS)),
    "active": t("boolean", "not cleared yet"),
    "raised_at": time_("when a scheduled job noticed it"),
    "cleared_at": time_("when a later run found it gone (the charger was heard again)"),
    "detail": t("string", "what was seen, in words", null=True),
    "acknowledged_by": t("string", "the user who acknowledged it", null=True),
    "acknowledged_at": time_(),
}, description="A condition a scheduled job noticed about a charger.")
SCHEMAS["Job"] = obj({
    "id": t("string", "the RQ job id"),
    "function": t("string", "the job's function, e.g. app.jobs.detect_offline", null=True),
    "queue": t("string", "the queue it was enqueued on"),
    "status": t("string", "queued, started, deferred, scheduled, finished, stopped, canceled "
                          "or failed"),
    "enqueued_at": time_(),
    "started_at": time_(),
    "ended_at": time_(),
    "result": {"description": "what the job returned, once finished (any JSON value)"},
    "error": t("string", "the traceback of the failure", null=True),
    "retries_left": t("integer", null=True),
}, description="A background job as RQ knows it.")
SCHEMAS["NodeFeature"] = obj({
    "name": t("string", "the feature", enum=list(FEATURES)),
    "description": t("string", "what it is"),
    "enabled": t("boolean", "on for this node: an admin's switch, else the default"),
    "default": t("boolean", "on without a switch: CONSTELLATION_FEATURES, else the role's "
                            "default"),
    "switched_by": t("string", "the admin whose switch holds", null=True),
    "healthy": t("boolean", "present, configured and working"),
    "present": t("boolean", "its hardware or program is on this machine"),
    "configured": t("boolean", "its settings are there"),
    "working": t("boolean", "its service answers"),
    "detail": t("string", "what was found, and why not where it is not healthy"),
}, description="One feature of the node with its health.")
SCHEMAS["NetworkInterface"] = obj({
    "name": t("string"),
    "up": t("boolean", "the link is up"),
    "addresses": array(t("string"), "IPv4 and IPv6 addresses"),
    "mac": t("string", null=True),
})
SCHEMAS["Node"] = obj({
    "role": t("string", "NODE_ROLE", enum=list(ROLES)),
    "hostname": t("string"),
    "version": t("string", "the running version (git describe)"),
    "channel": t("string", "the upgrade channel: stable, latest or manual"),
    "last_upgrade": {"type": ["object", "null"], "description": "what the upgrade command "
                     "recorded; null where none ran", "properties": {
                         "version": t("string", null=True), "since": t("string", null=True),
                         "failed": array(t("string"), "versions that failed, with why")}},
    "features": array(ref("NodeFeature")),
    "interfaces": array(ref("NetworkInterface")),
    "uplink": t("string", "the interface of the default route", null=True),
    "uptime_seconds": t("integer", "since the machine booted"),
    "disk": obj({"path": t("string", "the instance directory"), "total_bytes": t("integer"),
                 "free_bytes": t("integer"), "used_percent": t("number")}),
    "redis": obj({"configured": t("boolean"), "ok": t("boolean"), "detail": t("string")}),
    "workers": obj({"count": t("integer", "RQ workers registered"), "detail": t("string")}),
    "display": {"type": ["object", "null"], "description": "what the LCD shows now (the "
                "simulated display's frame); null where no LCD service has run", "properties": {
                    "lines": array(t("string"), "its two lines, each at most 16 characters"),
                    "updated_at": t("string", "when the frame was shown"),
                    "backend": t("string", "simulated, or pcf8574 (the real display it "
                                           "mirrors)")}},
}, description="This node: role, version, features and their health, network, services.")
SCHEMAS["FeatureSwitch"] = obj({
    "enabled": t("boolean", "true or false; null goes back to the default", null=True),
}, ["enabled"], "An admin's switch of one feature.")
SCHEMAS["RfidScan"] = obj({
    "id": t("integer"),
    "uid": t("string", "the card's UID, upper-case hex without the check byte"),
    "scanned_at": time_(),
    "result": t("string", "started or stopped a session, pending approval, refused "
                          "(blocked, expired or rejected card), failed (the charger did not "
                          "take the command), ignored (no charger configured)",
                enum=list(SCAN_RESULTS)),
    "detail": t("string", "why, in words", null=True),
    "charger": t("string", "the charger the scan acted on", null=True),
    "connector_id": t("integer", null=True),
    "command_id": t("integer", "the command sent (see /commands)", null=True),
    "transaction_id": t("integer", "the transaction stopped", null=True),
}, description="One card presented to the node's RFID reader.")
# A command sent for an operation: the command with the operation's name (one object, as below).
SCHEMAS["OperationResult"] = obj({
    **SCHEMAS["Command"]["properties"],
    "operation": t("string", "the operation's name (the action is the version's command)"),
}, description="The command the operation was worded as, with the operation's name.")
# A transaction with its meter values: one object (a strict allOf could not add a field).
SCHEMAS["TransactionDetail"] = obj({
    **SCHEMAS["Transaction"]["properties"],
    "meter_values": array(ref("MeterValue"), "ordered by timestamp"),
}, description="A transaction with its meter values.")
for _name in ("Charger", "Transaction", "Token", "Reservation", "ConfigurationKey",
              "FirmwareFile", "FirmwareDeployment", "DiagnosticsRequest", "StatusNotification",
              "Message", "DataTransfer", "Command", "AuditEvent", "SecurityEvent",
              "ChargerEvent", "DeviceVariable", "DeviceReport", "DisplayMessage",
              "BulkOperation", "BulkOperationResult", "Alert", "RfidScan"):
    SCHEMAS[f"{_name}Page"] = page_of(_name)


# Parameters and responses ------------------------------------------------------------------

def param(name: str, where: str, schema: dict, description: str,
          required: bool = False) -> dict:
    return {"name": name, "in": where, "required": required or where == "path",
            "description": description, "schema": schema}


def query(name: str, description: str, schema: dict | None = None) -> dict:
    return param(name, "query", schema or t("string"), description)


PAGE = [query("page", "page number, from 1", t("integer", minimum=1, default=1)),
        query("per_page", "items per page", t("integer", minimum=1, maximum=500, default=50))]
CHARGER_FILTER = query("charger", "only this charger (its identity); 404 if unknown")
IDENTITY = param("identity", "path", t("string"), "charger identity (percent-encode '/', "
                                                  "'%' and the like)")
BULK_ID = param("bulk_id", "path", t("integer"), "the bulk operation's id")


def error(description: str) -> dict:
    return {"description": description, "content": {JSON: {"schema": ref("Error")}}}


def ok(schema_name: str, description: str = "OK", status: str = "200") -> dict:
    return {status: {"description": description, "content": {JSON: {"schema": ref(schema_name)}}}}


def body(schema_name: str, content_type: str = JSON) -> dict:
    return {"required": True, "content": {content_type: {"schema": ref(schema_name)}}}


def op(summary: str, responses: dict, *, tag: str, parameters: list | None = None,
       request: dict | None = None, write: bool = False, description: str | None = None,
       public: bool = False) -> dict:
    operation: dict[str, Any] = {"summary": summary, "tags": [tag]}
    if description:
        operation["description"] = description
    if parameters:
        operation["parameters"] = parameters
    if request:
        operation["requestBody"] = request
    responses = dict(responses)
    if request or any(p["in"] == "query" for p in parameters or ()):
        responses.setdefault("400", error("invalid input; the message says which"))
    if not public:
        responses.setdefault("401", error("no or an invalid bearer token"))
    if write:
        responses.setdefault("403", error("this needs the role admin or operator"))
    operation["responses"] = dict(sorted(responses.items()))
    if public:
        operation["security"] = []
    return operation


NOT_FOUND = {"404": error("not found")}


def list_op(summary: str, schema: str, tag: str, filters: list | None = None,
            description: str | None = None, not_found: bool = False) -> dict:
    return op(summary, {**ok(f"{schema}Page"), **(NOT_FOUND if not_found else {})}, tag=tag,
              parameters=[*(filters or []), *PAGE], description=description)


PATHS: dict[str, dict] = {
    "/chargers": {
        "get": list_op("List chargers", "Charger", "chargers", [
            query("connected", "only connected (true) or disconnected (false) chargers",
                  t("boolean")),
            query("q", "substring of the identity"),
            query("decommissioned", "list the decommissioned chargers instead (true)",
                  t("boolean")),
        ], "Ordered by identity; decommissioned chargers are left out."),
        "post": op("Register a charger", {**ok("Charger", "registered", "201"),
                                          "409": error("a charger with this identity exists")},
                   tag="chargers", request=body("ChargerCreate"), write=True),
    },
    "/chargers/{identity}": {
        "get": op("Get a charger with its connectors", {**ok("Charger"), **NOT_FOUND},
                  tag="chargers", parameters=[IDENTITY]),
        "patch": op("Change a charger's settings", {**ok("Charger"), **NOT_FOUND},
                    tag="chargers", parameters=[IDENTITY], request=body("ChargerUpdate"),
                    write=True, description="All or nothing: nothing changes if a field is "
                                            "invalid."),
        "delete": op("Decommission a charger, or delete it for good", {
            **ok("Charger", "decommissioned"), "204": {"description": "deleted (purge)"},
            **NOT_FOUND, "403": error("this needs the role admin"),
            "409": error("purge: it has transactions (kept for billing) or is connected")},
            tag="chargers", parameters=[IDENTITY, query(
                "purge", "delete it and what is stored about it, only if it has no "
                "transactions and is not connected", t("boolean"))],
            description="By default the charger is decommissioned: its session is closed, "
                        "its handshake refused (it is disabled), it is left out of lists, and "
                        "its history (transactions, energy) is kept. Recorded in `/audit`."),
    },
    "/chargers/{identity}/recommission": {
        "post": op("Put a decommissioned charger back in service", {
            **ok("Charger"), **NOT_FOUND, "403": error("this needs the role admin"),
            "409": error("it is not decommissioned")},
            tag="chargers", parameters=[IDENTITY],
            description="Enabled and listed again; it may connect. Recorded in `/audit`."),
    },
    "/chargers/{identity}/commands": {
        "post": op("Send a command to a charger", {
            **ok("Command", "answered (or timed out) when wait is true"),
            **ok("Command", "recorded and being sent, when wait is false", "202"),
            **NOT_FOUND,
            "409": error("the charger is not connected"),
            "422": error("the payload does not satisfy the OCPP schema"),
        }, tag="commands", parameters=[IDENTITY], request=body("CommandRequest"), write=True),
    },
    "/chargers/{identity}/operations/{name}": {
        "post": op("Run a version-neutral operation on a charger", {
            **ok("OperationResult", "answered (or timed out) when wait is true"),
            **ok("OperationResult", "recorded and being sent, when wait is false", "202"),
            "404": error("no such charger, or no such operation"),
            "409": error("the charger is not connected"),
            "422": error("the charger's OCPP version cannot do this, or the command it words "
                         "does not satisfy the OCPP schema"),
        }, tag="commands", parameters=[
            IDENTITY, param("name", "path", t("string"), "the operation, e.g. start, reset "
                            "(`GET /operations` lists them)"),
            query("wait", "answer once the charger replied (true, 200) or at once (false, 202)",
                  t("boolean", default=True)),
            query("timeout", "seconds to wait for the answer (default OCPP_CALL_TIMEOUT, at "
                  "most 300)", t("number")),
        ], request={"required": False, "content": {JSON: {"schema": ref(
            "OperationArguments")}}}, write=True,
            description="The same operation for every OCPP version: the charger's adapter "
                        "words it as its version's command (docs/operations.md). The answer is "
                        "the command, with `operation`."),
    },
    "/bulk-operations": {
        "post": op("Run one operation on many chargers, as a background job", {
            **ok("BulkOperation", "recorded and started", "202"),
            "400": error("a wrong argument, selection or field"),
            "404": error("no such operation, or a charger of the list does not exist"),
            "422": error("no charger matches the selection"),
        }, tag="commands", request=body("BulkOperationRequest"), write=True,
            description="At most max_in_flight chargers at a time, each through the "
                        "version-neutral operation (its own version's command), each with its "
                        "result. On an RQ worker when REDIS_URL is set, else in the server "
                        "process."),
        "get": list_op("Bulk operations, newest first", "BulkOperation", "commands"),
    },
    "/bulk-operations/{bulk_id}": {
        "get": op("A bulk operation's status and progress", {**ok("BulkOperation"),
                                                             **NOT_FOUND},
                  tag="commands", parameters=[BULK_ID]),
    },
    "/bulk-operations/{bulk_id}/results": {
        "get": list_op("A bulk operation's result per charger, in order", "BulkOperationResult",
                       "commands", [BULK_ID, query("status", "only this result status", t(
                           "string", enum=["waiting", "running", "completed", "rejected",
                                           "error", "cancelled"]))], not_found=True),
    },
    "/bulk-operations/{bulk_id}/cancel": {
        "post": op("Cancel a bulk operation: no new charger is started", {
            **ok("BulkOperation"), **NOT_FOUND,
            "409": error("it has already ended"),
        }, tag="commands", parameters=[BULK_ID], write=True,
            description="Commands already sent finish and keep their results; the chargers "
                        "not reached yet are cancelled."),
    },
    "/operations": {
        "get": op("List the version-neutral operations", {**ok("OperationList")},
                  tag="commands", description="Each operation's arguments and the OCPP versions "
                                              "that can do it."),
    },
    "/chargers/{identity}/configuration": {
        "get": list_op("Configuration keys as last reported", "ConfigurationKey", "records",
                       [IDENTITY], "Ordered by key; filled by GetConfiguration and "
                                   "ChangeConfiguration commands.", not_found=True),
    },
    "/chargers/{identity}/variables": {
        "get": list_op("The device model of a 2.x charger: its variables", "DeviceVariable",
                       "records", [
                           IDENTITY,
                           query("component", "only this component name (ignoring case)"),
                           query("variable", "only this variable name (ignoring case)"),
                           query("q", "substring of a component or variable name, an instance "
                                      "or an attribute value (ignoring case)"),
                       ], "Ordered by component, EVSE, connector and variable. Filled by "
                          "NotifyReport (after GetBaseReport / GetReport) and updated by "
                          "GetVariables and SetVariables results.", not_found=True),
    },
    "/chargers/{identity}/reports": {
        "get": list_op("NotifyReport series of a 2.x charger, newest first", "DeviceReport",
                       "records", [IDENTITY], "With how many parts are in and whether the "
                                              "series is complete.", not_found=True),
    },
    "/chargers/{identity}/status-history": {
        "get": list_op("StatusNotifications of a charger, newest first", "StatusNotification",
                       "records", [IDENTITY, query("connector_id", "only this connector",
                                                   t("integer"))], not_found=True),
    },
    "/chargers/{identity}/messages": {
        "get": list_op("The OCPP message log of a charger, newest first", "Message", "records", [
            IDENTITY,
            query("direction", "in (from the charger) or out", t("string", enum=["in", "out"])),
            query("action", "only frames of this action (CALLs and their replies)"),
            query("since", "only frames logged at or after this time (ISO 8601)",
                  t("string", format="date-time")),
        ], not_found=True),
    },
    "/commands": {
        "get": list_op("List commands, newest first", "Command", "commands", [
            CHARGER_FILTER, query("action", "only this action"),
            query("status", "only this status",
                  t("string", enum=["pending", "completed", "error", "timeout"])),
        ], not_found=True),
    },
    "/commands/{command_id}": {
        "get": op("Get a command", {**ok("Command"), **NOT_FOUND}, tag="commands",
                  parameters=[param("command_id", "path", t("integer"), "command id")]),
    },
    "/transactions": {
        "get": list_op("List transactions, newest first", "Transaction", "transactions", [
            CHARGER_FILTER,
            query("state", "active (not stopped yet) or stopped",
                  t("string", enum=["active", "stopped"])),
            query("since", "started at or after (ISO 8601)", t("string", format="date-time")),
            query("until", "started before (ISO 8601)", t("string", format="date-time")),
            query("id_tag", "only this id tag"),
        ], not_found=True),
    },
    "/transactions/{transaction_id}": {
        "get": op("Get a transaction with its meter values", {**ok("TransactionDetail"),
                                                               **NOT_FOUND},
                  tag="transactions",
                  parameters=[param("transaction_id", "path", t("integer"), "transaction id")]),
    },
    "/transactions/{transaction_id}/close": {
        "post": op("Close a transaction whose StopTransaction will never come", {
            **ok("Transaction"), **NOT_FOUND, "409": error("it is not running")},
            tag="transactions",
            parameters=[param("transaction_id", "path", t("integer"), "transaction id")],
            request={"required": False, "content": {JSON: {"schema": ref("TransactionClose")}}},
            write=True,
            description="Stopped now with the reason given (`ClosedByOperator` by default) and "
                        "the energy from `meter_stop` or the newest register reading. Should "
                        "the charger's StopTransaction come after all, its numbers replace "
                        "these. Recorded in `/audit`."),
    },
    "/audit": {
        "get": list_op("Operator actions other than commands, newest first", "AuditEvent",
                       "audit", [query("charger", "only this charger (its identity)"),
                                 query("action", "only this action"),
                                 query("actor", "only this user")],
                       "Decommissioned, recommissioned and deleted chargers, transactions "
                       "closed by hand. Commands are recorded in `/commands`."),
    },
    "/tokens": {
        "get": list_op("List tokens (id tags)", "Token", "tokens", [
            query("status", "only this status", t("string", enum=list(TOKEN_STATUSES))),
            query("q", "substring of the id tag"),
        ], "Ordered by id tag."),
        "post": op("Create a token", {**ok("Token", "created", "201"),
                                      "409": error("the id tag exists")},
                   tag="tokens", request=body("TokenCreate"), write=True),
    },
    "/tokens/{id_tag}": {
        "get": op("Get a token", {**ok("Token"), **NOT_FOUND}, tag="tokens",
                  parameters=[param("id_tag", "path", t("string"), "the id tag")]),
        "patch": op("Change a token", {**ok("Token"), **NOT_FOUND}, tag="tokens",
                    parameters=[param("id_tag", "path", t("string"), "the id tag")],
                    request=body("TokenUpdate"), write=True,
                    description="All or nothing: nothing changes if a field is invalid."),
        "delete": op("Delete a token", {"204": {"description": "deleted"}, **NOT_FOUND},
                     tag="tokens", parameters=[param("id_tag", "path", t("string"),
                                                     "the id tag")], write=True),
    },
    "/reservations": {
        "get": list_op("List reservations, newest first", "Reservation", "records",
                       [CHARGER_FILTER], not_found=True),
    },
    "/reservations/{reservation_id}": {
        "get": op("Get a reservation", {**ok("Reservation"), **NOT_FOUND}, tag="records",
                  parameters=[param("reservation_id", "path", t("integer"),
                                    "the OCPP reservationId")]),
    },
    "/firmware": {
        "get": list_op("List uploaded firmware files, newest first", "FirmwareFile", "firmware",
                       [query("charger", "only files deployed to this charger; 404 if unknown")],
                       not_found=True),
        "post": op("Upload a firmware file", {
            **ok("FirmwareFile", "stored", "201"),
            "413": error("the file is larger than MAX_UPLOAD_BYTES"),
        }, tag="firmware", request=body("FirmwareUpload", "multipart/form-data"), write=True,
            description="Deploy it with an UpdateFirmware command and firmware_file_id."),
    },
    "/firmware-deployments": {
        "get": list_op("List firmware deployments (UpdateFirmware), newest first",
                       "FirmwareDeployment", "firmware",
                       [CHARGER_FILTER, query("status", "only this status")], not_found=True),
    },
    "/diagnostics": {
        "get": list_op("List diagnostics requests (GetDiagnostics), newest first",
                       "DiagnosticsRequest", "diagnostics", [CHARGER_FILTER], not_found=True),
    },
    "/diagnostics/files/{file_id}": {
        "get": op("Download an uploaded diagnostics file", {
            "200": {"description": "the file", "content": {"application/octet-stream": {
                "schema": t("string", format="binary")}}},
            **NOT_FOUND,
            "410": error("recorded, but the file is no longer stored"),
        }, tag="diagnostics", parameters=[param("file_id", "path", t("integer"),
                                                "diagnostics file id")]),
    },
    "/data-transfers": {
        "get": list_op("List DataTransfer messages, newest first", "DataTransfer", "records", [
            CHARGER_FILTER, query("direction", "in or out", t("string", enum=["in", "out"])),
        ], not_found=True),
    },
    "/security-events": {
        "get": list_op("Security events, newest first", "SecurityEvent", "records", [
            CHARGER_FILTER,
            query("source", "charger or csms", t("string", enum=["charger", "csms"])),
            query("type", "only this type"),
        ], "From SecurityEventNotification (2.0.1, 2.1) and what the CSMS itself saw; "
           "ordered by the reporter's time.", not_found=True),
    },
    "/chargers/{identity}/events": {
        "get": list_op("A charger's device events (NotifyEvent), newest first", "ChargerEvent",
                       "records", [IDENTITY, query(
                           "problem", "only faults (true) or only the rest (false)",
                           t("boolean"))],
                       "One item per eventData; a retried NotifyEvent is stored once. A fault "
                       "in 2.x is a Problem event or AvailabilityState Faulted.",
                       not_found=True),
    },
    "/chargers/{identity}/display-messages": {
        "get": list_op("The display messages on a 2.x station, newest change first",
                       "DisplayMessage", "records", [IDENTITY, query(
                           "cleared", "also the cleared ones (true)", t("boolean"))],
                       "What an accepted SetDisplayMessage put there and what GetDisplayMessages "
                       "found (NotifyDisplayMessages), until an accepted ClearDisplayMessage.",
                       not_found=True),
    },
    "/alerts": {
        "get": list_op("Alerts raised by the scheduled jobs, newest first", "Alert", "alerts", [
            CHARGER_FILTER,
            query("active", "only active (true) or only cleared (false) alerts", t("boolean")),
        ], "Offline detection raises one when a charger is silent for longer than its "
           "heartbeat interval x OFFLINE_FACTOR + OFFLINE_GRACE_SECONDS, and clears it on the "
           "first run after the charger is heard again.", not_found=True),
    },
    "/alerts/{alert_id}/acknowledge": {
        "post": op("Acknowledge an alert", {**ok("Alert"), **NOT_FOUND}, tag="alerts",
                   parameters=[param("alert_id", "path", t("integer"), "alert id")],
                   write=True, description="Notes who has seen it; it stays active until its "
                                           "condition clears."),
    },
    "/jobs/{job_id}": {
        "get": op("Get a background job's status", {
            **ok("Job"), **NOT_FOUND, "403": error("this needs the role admin"),
            "503": error("REDIS_URL is not set (jobs run in the web process, without RQ) or "
                         "Redis did not answer")},
            tag="jobs", parameters=[param("job_id", "path", t("string"), "the RQ job id")],
            description="Status, times, the result or the failure's traceback, as RQ keeps "
                        "them (results for 7 days, failures for 30, for scheduled jobs)."),
    },
    "/node": {
        "get": op("This node: role, version, features with their health, interfaces", ok("Node"),
                  tag="node", description="Each feature is on by the role's default "
                  "(NODE_ROLE; CONSTELLATION_FEATURES replaces the list) unless an admin "
                  "switched it; its health says whether it is present, configured and "
                  "working, and why not."),
    },
    "/node/features/{name}": {
        "put": op("Switch a feature on or off for this node", {
            **ok("Node"), **NOT_FOUND, "403": error("this needs the role admin")},
            tag="node", request=body("FeatureSwitch"),
            parameters=[param("name", "path", t("string", enum=list(FEATURES)), "the feature")]),
    },
    "/rfid/scans": {
        "get": list_op("The RFID reader's scans, newest first", "RfidScan", "node", [
            query("uid", "only this card (any case)"),
            query("result", "only scans with this result", t("string",
                                                             enum=list(SCAN_RESULTS)))]),
    },
    "/openapi.json": {
        "get": op("This document", {"200": {"description": "OpenAPI 3.1",
                                            "content": {JSON: {"schema": t("object")}}}},
                  tag="documentation", public=True),
    },
    "/docs": {
        "get": op("This document as HTML", {"200": {"description": "an HTML page", "content": {
            "text/html": {"schema": t("string")}}}}, tag="documentation", public=True),
    },
}


def _request_schemas() -> set[str]:
    names = set()
    for item in PATHS.values():
        for operation in item.values():
            for media in operation.get("requestBody", {}).get("content", {}).values():
                names.add(media["schema"]["$ref"].rsplit("/", 1)[-1])
    return names


def strict(schema: Any) -> Any:
    """A response schema as the API promises it: every property is required unless marked
    ``sometimes``, and no other property may appear. A renamed or dropped field then fails
    validation instead of passing silently. Free-form objects (no ``properties``) stay open."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: strict(value) for key, value in schema.items() if key != OPTIONAL}
    properties = schema.get("properties")
    if isinstance(properties, dict) and "object" in schema.get("type", ()):
        out["properties"] = {name: strict(value) for name, value in properties.items()}
        out["required"] = [name for name, value in properties.items()
                           if not value.get(OPTIONAL)]
        out.setdefault("additionalProperties", False)
    return out


def _schemas() -> dict[str, dict]:
    requests = _request_schemas()
    return {name: schema if name in requests else strict(schema)
            for name, schema in SCHEMAS.items()}


def document(version: str, server_url: str = "/api/v1") -> dict[str, Any]:
    """The OpenAPI document; ``server_url`` is where ``/api/v1`` is served. Response schemas
    are ``strict``; request bodies say themselves what they require."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Constellation CSMS API",
            "version": version,
            "description": (
                "Manage OCPP chargers, transactions, tokens, commands, firmware and diagnostics."
                " Every route needs `Authorization: Bearer <token>` (see `flask users token`)"
                " except this document. Viewers may read; writes need admin or operator."
                " Errors are JSON `{\"error\", \"message\"}`. Lists take `page` and `per_page`"
                " and answer `{\"items\", \"page\", \"per_page\", \"total\"}`. Times are ISO"
                " 8601 in UTC with a `Z`; energy is in Wh and power in W."),
        },
        "servers": [{"url": server_url}],
        "security": [{"bearerAuth": []}],
        "tags": [{"name": name} for name in ("chargers", "commands", "transactions", "tokens",
                                             "firmware", "diagnostics", "records", "audit",
                                             "alerts", "jobs", "node", "documentation")],
        "paths": PATHS,
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                               "description": "an API token of a user"}},
            "schemas": _schemas(),
        },
    }

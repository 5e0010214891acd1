"""OCPP 1.6J: the adapter's handlers for what chargers send, the commands the CSMS sends, and
how it words the version-neutral operations (``operations``)."""
from __future__ import annotations

from .. import errors
from ..versions import CommandSpec, OcppVersion
from .handlers import HANDLERS
from .operations import OPERATIONS

# Every CSMS-initiated action the 1.6 core, firmware, local list, reservation, remote trigger and
# smart charging profiles define.
COMMANDS = (
    "CancelReservation", "ChangeAvailability", "ChangeConfiguration", "ClearCache",
    "ClearChargingProfile", "DataTransfer", "GetCompositeSchedule", "GetConfiguration",
    "GetDiagnostics", "GetLocalListVersion", "RemoteStartTransaction", "RemoteStopTransaction",
    "ReserveNow", "Reset", "SendLocalList", "SetChargingProfile", "TriggerMessage",
    "UnlockConnector", "UpdateFirmware",
)

VERSION = OcppVersion(
    "1.6", ("ocpp1.6", "ocpp1.6j"), handlers=HANDLERS,
    commands={action: CommandSpec() for action in COMMANDS},
    operations=OPERATIONS,
    # OCPP 1.6 section 4.1.3: an unknown message type is ignored.
    unknown_message_type="ignore",
    spelling={
        errors.FORMAT_VIOLATION: "FormationViolation",
        errors.OCCURRENCE_CONSTRAINT_VIOLATION: "OccurenceConstraintViolation",
        # 1.6 has neither: the nearest 1.6 codes.
        errors.RPC_FRAMEWORK_ERROR: errors.PROTOCOL_ERROR,
        errors.MESSAGE_TYPE_NOT_SUPPORTED: errors.NOT_SUPPORTED,
    },
)

"""OCPP 1.6J: the handlers for what chargers send, and the commands the CSMS can send them."""
from .handlers import HANDLERS  # noqa: F401

# Every CSMS-initiated action the 1.6 core, firmware, local list, reservation, remote trigger and
# smart charging profiles define.
COMMANDS = (
    "CancelReservation", "ChangeAvailability", "ChangeConfiguration", "ClearCache",
    "ClearChargingProfile", "DataTransfer", "GetCompositeSchedule", "GetConfiguration",
    "GetDiagnostics", "GetLocalListVersion", "RemoteStartTransaction", "RemoteStopTransaction",
    "ReserveNow", "Reset", "SendLocalList", "SetChargingProfile", "TriggerMessage",
    "UnlockConnector", "UpdateFirmware",
)

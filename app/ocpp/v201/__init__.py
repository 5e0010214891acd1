"""OCPP 2.0.1: the adapter's handlers for what stations send, the commands the CSMS sends, and
how it words the version-neutral operations (``operations``)."""
from __future__ import annotations

from ..versions import CommandSpec, OcppVersion
from .handlers import HANDLERS
from .operations import OPERATIONS

# Every CSMS-initiated action of 2.0.1 (the schemas hold both directions; DataTransfer goes
# both ways). 2.0.1 spells error codes the 2.x way, the names in ``errors``.
COMMANDS = (
    "CancelReservation", "CertificateSigned", "ChangeAvailability", "ClearCache",
    "ClearChargingProfile", "ClearDisplayMessage", "ClearVariableMonitoring", "CostUpdated",
    "CustomerInformation", "DataTransfer", "DeleteCertificate", "GetBaseReport",
    "GetChargingProfiles", "GetCompositeSchedule", "GetDisplayMessages",
    "GetInstalledCertificateIds", "GetLocalListVersion", "GetLog", "GetMonitoringReport",
    "GetReport", "GetTransactionStatus", "GetVariables", "InstallCertificate", "PublishFirmware",
    "RequestStartTransaction", "RequestStopTransaction", "ReserveNow", "Reset", "SendLocalList",
    "SetChargingProfile", "SetDisplayMessage", "SetMonitoringBase", "SetMonitoringLevel",
    "SetNetworkProfile", "SetVariableMonitoring", "SetVariables", "TriggerMessage",
    "UnlockConnector", "UnpublishFirmware", "UpdateFirmware",
)

VERSION = OcppVersion(
    "2.0.1", ("ocpp2.0.1",), handlers=HANDLERS,
    commands={action: CommandSpec() for action in COMMANDS},
    operations=OPERATIONS,
    max_token=36,
    # OCPP-J 2.0.1 (Part 4, 4.1.3): an unknown message type gets CALLERROR
    # MessageTypeNotSupported.
    unknown_message_type="reject",
)

"""OCPP 2.1: a delta of the 2.0.1 adapter (2.1 is 2.0.1 plus optional fields and new actions).

Same handlers (their payloads validate against the 2.1 schemas), the 2.0.1 commands plus 2.1's
new CSMS-initiated actions, and 2.1's OCPP-J rules: SEND (6) and CALLRESULTERROR (5) exist, and
a frame of an unknown message type is ignored.
"""
from __future__ import annotations

from dataclasses import replace

from ..v201 import VERSION as V201
from ..v201 import operations
from ..versions import CommandSpec, OcppVersion

# CSMS-to-station actions 2.1 adds to 2.0.1's.
NEW_COMMANDS = (
    "AFRRSignal", "AdjustPeriodicEventStream", "ChangeTransactionTariff", "ClearDERControl",
    "ClearTariffs", "GetDERControl", "GetPeriodicEventStream", "GetTariffs",
    "NotifyAllowedEnergyTransfer", "NotifyWebPaymentStarted", "RequestBatterySwap",
    "SetDERControl", "SetDefaultTariff", "UpdateDynamicSchedule", "UsePriorityCharging",
)

VERSION: OcppVersion = replace(
    V201, name="2.1", subprotocols=("ocpp2.1",),
    commands={**V201.commands, **{action: CommandSpec() for action in NEW_COMMANDS}},
    # 2.1's idTokens: up to 255 characters of any type.
    operations=operations.build(max_token=255, token_types=None),
    max_token=255,
    has_send=True,
    # OCPP-J 2.1 (Part 4): an unknown message type is ignored.
    unknown_message_type="ignore",
)

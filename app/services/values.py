"""Domain values: what the version adapters hand the services, and what the services answer.

No OCPP version shows through here. A 1.6 ``idTag`` and a 2.x ``idToken`` are both a
``Token``; a 1.6 ``idTagInfo`` and a 2.x ``idTokenInfo`` are both an ``Authorization``; a 1.6
``sampledValue`` and a 2.x one (with ``unitOfMeasure``) are both a ``Sample``. The adapters in
``app/ocpp/v16`` and ``app/ocpp/v201`` translate each way; services never see a camelCase field.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# Token types of OCPP 2.0.1 (2.1 allows any string). A 1.6 idTag has no type: None.
TOKEN_TYPES = ("Central", "eMAID", "ISO14443", "ISO15693", "KeyCode", "Local", "MacAddress",
               "NoAuthorization")


@dataclass(frozen=True, slots=True)
class Token:
    """A token as a charger presents it: the value (case-insensitive) and, for 2.x, its type."""

    value: str
    type: str | None = None


@dataclass(frozen=True, slots=True)
class Authorization:
    """Whether a token may charge, in the domain's words.

    ``status``: Accepted, Blocked, Expired, Invalid, ConcurrentTx, or Unknown (no such token:
    1.6 says Invalid, 2.x Unknown). ``group`` is the parent id tag (1.6) or group id token (2.x).
    """

    status: str
    expires_at: datetime | None = None
    group: str | None = None


@dataclass(frozen=True, slots=True)
class BootInfo:
    """What a charger says about itself when it boots."""

    vendor: str | None = None
    model: str | None = None
    serial_number: str | None = None
    charge_box_serial_number: str | None = None
    firmware_version: str | None = None
    iccid: str | None = None
    imsi: str | None = None
    meter_type: str | None = None
    meter_serial_number: str | None = None
    # 2.x only: PowerUp, FirmwareUpdate, RemoteReset, ...
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Sample:
    """One sampled value as reported, before normalisation (``metering.sample_rows``).

    ``value`` is what the charger sent (1.6: a string, 2.x: a number); ``multiplier`` is 2.x's
    ``unitOfMeasure.multiplier`` (a power of ten), 0 for 1.6.
    """

    value: object
    timestamp: datetime | None = None
    measurand: str | None = None
    unit: str | None = None
    multiplier: int = 0
    phase: str | None = None
    context: str | None = None
    location: str | None = None
    format: str | None = None


@dataclass(frozen=True, slots=True)
class ConnectorStatus:
    """A connector's state as a StatusNotification reports it.

    ``evse_id`` is None for 1.6 (whose connector ids number the whole charger); ``error_code``
    is None for 2.x (faults come through NotifyEvent there).
    """

    connector_id: int
    status: str
    evse_id: int | None = None
    error_code: str | None = None
    info: str | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None
    timestamp: datetime | None = None


@dataclass(frozen=True, slots=True)
class TransactionEventValue:
    """One 2.x TransactionEvent, as the domain sees it.

    ``event_type``: Started, Updated or Ended. ``charger_transaction_id`` is the charger's own
    id (up to 36 characters, unique per charger); ``seq_no`` orders a charger's events and is
    the key of a retry (2.0.1 retries get a new message id).
    """

    event_type: str
    timestamp: datetime
    trigger_reason: str
    seq_no: int
    charger_transaction_id: str
    offline: bool = False
    evse_id: int | None = None
    connector_id: int | None = None
    token: Token | None = None
    charging_state: str | None = None
    stopped_reason: str | None = None
    remote_start_id: int | None = None
    reservation_id: int | None = None
    time_spent_charging: int | None = None
    number_of_phases_used: int | None = None
    cable_max_current: int | None = None
    samples: tuple[Sample, ...] = ()


# Station notifications (2.x) ---------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SecurityEventValue:
    """A security event: ``type`` from an open list (FirmwareUpdated, InvalidTLSVersion, ...),
    when it happened, and what the reporter added."""

    type: str
    timestamp: datetime
    tech_info: str | None = None


@dataclass(frozen=True, slots=True)
class DeviceEvent:
    """One event of a station's device model (a 2.x NotifyEvent eventData): a component's
    variable took ``actual_value``, reported by ``trigger`` (Alerting, Delta, Periodic)."""

    event_id: int
    timestamp: datetime
    trigger: str
    actual_value: str
    notification_type: str
    component: str
    variable: str
    component_instance: str | None = None
    evse_id: int | None = None
    connector_id: int | None = None
    variable_instance: str | None = None
    cause: int | None = None
    tech_code: str | None = None
    tech_info: str | None = None
    cleared: bool = False
    charger_transaction_id: str | None = None
    monitor_id: int | None = None

    @property
    def problem(self) -> bool:
        """A fault, in 2.x's words: Problem = true or AvailabilityState = Faulted, not cleared
        (2.x has no error code in StatusNotification; faults come this way)."""
        if self.cleared:
            return False
        variable, value = self.variable.lower(), self.actual_value.strip().lower()
        return (variable == "problem" and value == "true") or (
            variable == "availabilitystate" and value == "faulted")


@dataclass(frozen=True, slots=True)
class EventBatch:
    """One NotifyEvent message: its events, when the batch was made, its place in a series."""

    generated_at: datetime
    seq_no: int
    events: tuple[DeviceEvent, ...]
    tbc: bool = False


@dataclass(frozen=True, slots=True)
class ChargingLimitValue:
    """An external limit on charging (NotifyChargingLimit): its source (EMS, SO, CSO, Other),
    the EVSE (0: the whole station) and the schedules as sent."""

    source: str
    evse_id: int = 0
    grid_critical: bool | None = None
    local_generation: bool | None = None
    schedules: tuple[dict, ...] = ()


@dataclass(frozen=True, slots=True)
class ReportedProfile:
    """A charging profile as a station reports it: its id and the profile as sent."""

    profile_id: int
    profile: dict


@dataclass(frozen=True, slots=True)
class DisplayMessageValue:
    """A display message as a station reports it: id, priority, state and the whole of it."""

    message_id: int
    priority: str
    info: dict
    state: str | None = None
    transaction_id: str | None = None

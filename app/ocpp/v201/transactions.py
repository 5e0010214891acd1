"""OCPP 2.0.1 (and 2.1) TransactionEvent and MeterValues: wire payloads to domain values.

The only place 2.x's transaction fields (``transactionInfo``, ``evse``, ``idToken``,
``meterValue[].sampledValue[].unitOfMeasure``) are read. The rules of 2.x transactions (retries
by seqNo, any order, no reopening, energy) are the domain's, in
``services/transaction_events.py``; this adapter only translates and words the answer.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ...services import transaction_events
from ...services.time import parse_timestamp
from ...services.values import Sample, TransactionEventValue
from ..context import ChargerContext
from . import tokens


def samples(meter_value: list[dict] | None) -> list[Sample]:
    """``meterValue[]`` as domain samples; ``signedMeterValue`` is not kept."""
    found = []
    for entry in meter_value or ():
        timestamp = parse_timestamp(entry["timestamp"], "meterValue.timestamp")
        for sampled in entry["sampledValue"]:
            unit = sampled.get("unitOfMeasure") or {}
            found.append(Sample(
                sampled["value"], timestamp=timestamp, measurand=sampled.get("measurand"),
                unit=unit.get("unit"), multiplier=unit.get("multiplier", 0),
                phase=sampled.get("phase"), context=sampled.get("context"),
                location=sampled.get("location")))
    return found


def transaction_event_value(p: dict) -> TransactionEventValue:
    """A TransactionEvent request as the domain's value (times parsed, so a bad one is
    refused before anything is stored)."""
    info = p["transactionInfo"]
    evse = p.get("evse") or {}
    token = p.get("idToken")
    return TransactionEventValue(
        event_type=p["eventType"],
        timestamp=parse_timestamp(p["timestamp"]),
        trigger_reason=p["triggerReason"],
        seq_no=p["seqNo"],
        charger_transaction_id=info["transactionId"],
        offline=bool(p.get("offline", False)),
        evse_id=evse.get("id"),
        connector_id=evse.get("connectorId"),
        token=tokens.token(token) if token else None,
        charging_state=info.get("chargingState"),
        stopped_reason=info.get("stoppedReason"),
        remote_start_id=info.get("remoteStartId"),
        reservation_id=p.get("reservationId"),
        time_spent_charging=info.get("timeSpentCharging"),
        number_of_phases_used=p.get("numberOfPhasesUsed"),
        cable_max_current=p.get("cableMaxCurrent"),
        samples=tuple(samples(p.get("meterValue"))),
    )


def transaction_event(ctx: ChargerContext, p: dict, now: datetime) -> dict:
    event = transaction_event_value(p)
    # Refused here, before the writer: a refusal inside it would roll back its whole batch.
    transaction_events.check_event(event)
    result = _record(ctx, event, now)
    if not result.duplicate:
        ids = {"transaction_id": result.transaction_id,
               "charger_transaction_id": event.charger_transaction_id,
               "evse_id": event.evse_id, "connector_id": event.connector_id}
        if result.created:
            ctx.events.publish("transaction_started", ctx.identity, **ids,
                               id_tag=event.token.value if event.token else None)
        if event.samples:
            ctx.events.publish("meter", ctx.identity, **ids, meter_value=p.get("meterValue"))
        if result.ended:
            ctx.events.publish("transaction_stopped", ctx.identity, **ids,
                               stopped_reason=event.stopped_reason)
    # Whenever the request had an idToken, the reply carries idTokenInfo (retries too).
    if result.authorization is None:
        return {}
    return {"idTokenInfo": tokens.id_token_info(result.authorization)}


# Transactions a connection remembers at once (a charger runs one per EVSE).
KNOWN_LIMIT = 16


def _record(ctx: ChargerContext, event: TransactionEventValue,
            now: datetime) -> transaction_events.EventResult:
    """Store the event: a plain Updated of a transaction this connection knows as rows batched
    with other chargers' (``quick_rows``), anything else through ``record_event``."""
    remembered = ctx.transaction_events
    key = event.charger_transaction_id
    known = remembered.get(key)
    try:
        rows = (transaction_events.quick_rows(known, ctx.charger_id, event, now)
                if known is not None else None)
        if rows is not None:
            ctx.writer.insert_many(rows)
            result = transaction_events.EventResult(known.transaction_id, None)
            known = known.seen(event.seq_no)
        else:
            result = ctx.writer.run(transaction_events.record_event, ctx.charger_id, event, now,
                                    ctx.unknown_tag_policy,
                                    known.seq_nos if known is not None else None)
            known = result.known or known
    except Exception:
        remembered.pop(key, None)  # what it remembers may be what failed
        raise
    if known is not None:
        if key not in remembered and len(remembered) >= KNOWN_LIMIT:
            remembered.clear()
        remembered[key] = known
    return result


def meter_values(ctx: ChargerContext, p: dict, now: datetime) -> dict:
    transaction_events.check_evse_meter(p["evseId"])
    found = samples(p["meterValue"])
    tx_id = ctx.writer.run(transaction_events.record_meter_values, ctx.charger_id, p["evseId"],
                           found)
    ctx.events.publish("meter", ctx.identity, evse_id=p["evseId"], transaction_id=tx_id,
                       meter_value=p["meterValue"])
    return {}


HANDLERS: dict[str, Callable[[ChargerContext, dict[str, Any], datetime], dict[str, Any]]] = {
    "MeterValues": meter_values,
    "TransactionEvent": transaction_event,
}

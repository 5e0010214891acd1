"""A 2.x station's boot, status and transaction reach the console's live stream, as a 1.6
charger's do (the in-process bus of the embedded default)."""
from __future__ import annotations

from tests.support.charger import SimCharger
from tests.test_cluster_events import PASSWORD, EventStream

T0 = "2026-12-04T10:00:00Z"


def test_a_2x_station_s_events_reach_the_console_stream(live_server_factory, tmp_path):
    srv = live_server_factory(instance_dir=str(tmp_path))
    srv.flask("users", "create", "live2x", "--password", PASSWORD, "--role", "viewer")
    stream = EventStream(srv, "live2x")
    try:
        with SimCharger(srv.ws_url, "LIVE-21", subprotocols=["ocpp2.1"]) as cp:
            call = cp.ocpp.call
            cp.boot()
            assert stream.shows(lambda e: e["kind"] == "boot" and e["charger"] == "LIVE-21",
                                10) is not None
            cp.call(call.StatusNotification(timestamp=T0, connector_status="Occupied",
                                            evse_id=1, connector_id=1))
            status = stream.shows(lambda e: e["kind"] == "status", 10)
            assert status is not None and status["evse_id"] == 1
            tx = {"transaction_id": "LIVE-TX-1"}
            cp.call(call.TransactionEvent(event_type="Started", timestamp=T0,
                                          trigger_reason="CablePluggedIn", seq_no=0,
                                          transaction_info=tx, evse={"id": 1, "connectorId": 1}))
            assert stream.shows(lambda e: e["kind"] == "transaction_started", 10) is not None
            cp.call(call.TransactionEvent(event_type="Updated", timestamp=T0,
                                          trigger_reason="MeterValuePeriodic", seq_no=1,
                                          transaction_info=tx, meter_value=[{
                                              "timestamp": T0, "sampledValue": [
                                                  {"value": 120.0}]}]))
            assert stream.shows(lambda e: e["kind"] == "meter", 10) is not None
            ended = {**tx, "stoppedReason": "EVDisconnected"}
            cp.call(call.TransactionEvent(event_type="Ended", timestamp=T0,
                                          trigger_reason="EVDeparted", seq_no=2,
                                          transaction_info=ended))
            assert stream.shows(lambda e: e["kind"] == "transaction_stopped", 10) is not None
    finally:
        stream.close()

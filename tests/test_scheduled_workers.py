"""The schedule run for real: a real redis-server, real ``flask worker --with-scheduler``
processes (RQ's cron scheduler enqueues, RQ workers run), the web server running none of it.
Every scheduled job does its work on a seeded database; job status, results and failures
with their traceback are visible to admins; of two workers one enqueues, and the other takes
over when it stops."""
from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from redis import Redis

from tests.api.helpers import wait_for
from tests.api.test_openapi_responses import _json_get_paths, _schema_errors
from tests.conftest import Api
from tests.support.database import database_url
from tests.support.server import ROOT, VENV_BIN, LiveServer, query
from tests.test_offline_alerts import _console

EVERY_SECOND = ",".join(f"{name}=1" for name in (
    "offline_detection", "reservation_expiry", "stale_commands", "message_log_retention",
    "meter_value_retention", "daily_energy"))


def _seed(srv: LiveServer) -> None:
    """What each job has to act on, written as another process would."""
    now = datetime.now(UTC).replace(tzinfo=None)
    engine = sa.create_engine(database_url(srv.instance_dir))
    with engine.begin() as conn:
        def run(sql, **params):
            conn.execute(sa.text(sql), params)

        run("INSERT INTO chargers (id, identity, enabled, registration_status, auto_enrolled, "
            "lenient, heartbeat_interval, last_heartbeat) VALUES (1, 'W-SILENT', TRUE, "
            "'accepted', FALSE, FALSE, 60, :t)", t=now - timedelta(hours=1))
        run("INSERT INTO reservations (id, charger_id, connector_id, id_tag, status, "
            "expiry_date) VALUES (41, 1, 1, 'CARD', 'Accepted', :t)", t=now - timedelta(hours=1))
        run("INSERT INTO commands (id, charger_id, action, status, timeout, source, created_at) "
            "VALUES (51, 1, 'Reset', 'pending', 30, 'api', :t)", t=now - timedelta(hours=1))
        run("INSERT INTO message_log (identity, charger_id, direction, created_at, frame) "
            "VALUES ('W-SILENT', 1, 'in', :t, '[2,\"1\",\"Heartbeat\",{}]')",
            t=now - timedelta(days=3))
        for minute, value in ((1, 10.0), (5, 30.0)):
            run("INSERT INTO meter_values (charger_id, connector_id, timestamp, measurand, unit, "
                "value, raw_value, source) VALUES (1, 1, :t, 'Power.Active.Import', 'W', :v, "
                "'x', 'MeterValues')", t=datetime(2026, 1, 1, 10, minute), v=value)
        run("INSERT INTO transactions (charger_id, connector_id, meter_start, meter_stop, "
            "energy_wh, meter_anomaly, unmatched_stop, offline, started_at, stopped_at) VALUES "
            "(1, 1, 0, 4200, 4200, FALSE, FALSE, FALSE, :s, :t)",
            s=now - timedelta(days=1, minutes=30), t=now - timedelta(days=1))
    engine.dispose()


def _worker(srv: LiveServer) -> subprocess.Popen:
    return subprocess.Popen([str(VENV_BIN / "flask"), "--app", "wsgi", "worker",
                             "--with-scheduler"], cwd=ROOT, env=srv.env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _ppid(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return int(next(line for line in status if line.startswith("PPid:")).split()[1])


def test_workers_run_every_scheduled_job_and_admins_see_the_jobs(redis_url, tmp_path):
    from rq import Queue
    from rq.cron import CronScheduler, get_cron_job_ids

    srv = LiveServer(env={
        "REDIS_URL": redis_url, "SCHEDULE_INTERVALS": EVERY_SECOND, "OFFLINE_FACTOR": "1",
        "OFFLINE_GRACE_SECONDS": "0", "STALE_COMMAND_GRACE_SECONDS": "1",
        "MESSAGE_LOG_RETENTION_DAYS": "1", "METER_VALUE_RAW_DAYS": "1"},
        instance_dir=str(tmp_path))
    srv.flask("db", "upgrade")
    _seed(srv)
    srv.start()
    workers: list[subprocess.Popen] = []
    redis = Redis.from_url(redis_url)
    try:
        api = Api(srv.url, srv.create_user("jobs-admin"))
        # The web process runs no scheduled job when REDIS_URL is set: no worker, no alert.
        assert api.get("/alerts").json()["items"] == []
        assert api.get("/reservations/41").json()["status"] == "Accepted"

        workers += [_worker(srv), _worker(srv)]
        [alert] = wait_for(lambda: api.get("/alerts", params={"active": "true"}).json()["items"],
                            "no offline alert from the workers")
        assert alert["charger"] == "W-SILENT" and alert["kind"] == "offline"
        wait_for(lambda: api.get("/reservations/41").json()["status"] == "expired",
                  "the reservation did not expire")
        command = wait_for(lambda: (c := api.get("/commands/51").json())["status"] != "pending"
                            and c, "the stale command was not closed")
        assert (command["status"], command["error"]["code"]) == ("error", "Expired")
        wait_for(lambda: query(srv, "SELECT count(*) FROM message_log") == [(0,)],
                  "the message log was not pruned")
        wait_for(lambda: query(srv, "SELECT count(*) FROM meter_values") == [(0,)],
                  "raw meter values were not folded")
        assert query(srv, "SELECT min, max, avg, last, count FROM meter_value_aggregates") == [
            (10.0, 30.0, 20.0, 30.0, 2)]
        yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
        summary = wait_for(lambda: query(
            srv, "SELECT charger_id, energy_wh, sessions FROM daily_energy WHERE day = ? "
                 "ORDER BY charger_id", yesterday), "no daily energy summary")
        assert sorted(summary, key=lambda r: r[0] or 0) == [(None, 4200.0, 1), (1, 4200.0, 1)]

        # Of the two workers' cron schedulers one holds the lock and enqueues.
        [holder] = wait_for(lambda: CronScheduler.all(redis), "no cron scheduler registered")
        assert len(CronScheduler.all(redis)) == 1

        # The job behind a scheduled run: finished, with its result, as the API says.
        document = api.get("/openapi.json").json()
        schema = _json_get_paths(document)["/jobs/{job_id}"]
        job_id = wait_for(lambda: next(
            (i for i in get_cron_job_ids("constellation.offline_detection", redis)
             if api.get(f"/jobs/{i}").json()["status"] == "finished"), None),
            "no finished offline_detection job")
        job = api.get(f"/jobs/{job_id}").json()
        assert _schema_errors(document, schema, job) == []
        assert job["function"] == "app.jobs.detect_offline" and job["error"] is None
        assert set(job["result"]) == {"raised", "cleared"} and job["ended_at"] is not None
        # A job that raises: failed, with its traceback.
        failing = Queue("constellation", connection=redis).enqueue(
            "app.jobs.summarise_daily_energy", "not-a-day")
        failed = wait_for(lambda: (j := api.get(f"/jobs/{failing.id}").json())["status"]
                           == "failed" and j, "the failing job did not fail")
        assert "Traceback" in failed["error"] and "ValueError" in failed["error"]
        assert _schema_errors(document, schema, failed) == []
        assert api.get("/jobs/no-such-job").status_code == 404
        viewer = Api(srv.url, srv.create_user("jobs-viewer", role="viewer"))
        assert viewer.get(f"/jobs/{job_id}").status_code == 403
        page = _console(srv, "jobs-admin").get(srv.url + "/console/jobs", timeout=30).text
        assert failing.id in page and "app.jobs.detect_offline" in page
        assert "constellation.daily_energy" in page  # the schedule, from the cron scheduler

        # The holder's worker stops: the other worker's scheduler takes over.
        stopping = next(w for w in workers if w.pid == _ppid(holder.pid))
        _stop(stopping)
        wait_for(lambda: [s for s in CronScheduler.all(redis) if s.name != holder.name],
                  "the other worker did not take over the schedule")
        assert len(CronScheduler.all(redis)) == 1
    finally:
        for worker in workers:
            _stop(worker)
        srv.stop()
        redis.close()

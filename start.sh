#!/usr/bin/env bash
# Set up and serve Constellation in the foreground: HTTP, the REST API and OCPP websockets.
# Usage: ./start.sh [--host HOST] [--port PORT] [--workers N]  (default 127.0.0.1:8888, 1 worker;
#        more than one worker needs REDIS_URL)
# Embedded defaults: SQLite under instance/, no Redis. Configuration: docs/configuration.md.
set -euo pipefail
cd "$(dirname "$0")"
host=127.0.0.1
port=8888
while [ $# -gt 0 ]; do
  case "$1" in
    --host) host="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --workers) export WEB_WORKERS="$2"; shift 2 ;;
    -h|--help) sed -n 2,5p "$0"; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done
scripts/bootstrap.sh requirements.txt
echo "==> applying database migrations"
.venv/bin/flask --app wsgi db upgrade
echo "==> serving on http://$host:$port (OCPP: ws://$host:$port/ocpp/<identity>)"
exec .venv/bin/gunicorn -c gunicorn.conf.py --bind "$host:$port" wsgi:app

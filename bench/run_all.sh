#!/usr/bin/env bash
# Side-by-side benchmark: the re-implemented ocpp example CSMS vs Constellation, on 127.0.0.1 only.
# Usage: bench/run_all.sh [--quick] [--servers example,ours] [--only NAMES] [--profile] [--markdown]
# Every option is passed to bench/compare.py (see its docstring); results go to bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
  .venv/bin/pip install -q -r requirements-dev.txt -r bench/requirements.txt
fi
# 5,000 websockets need 5,000 descriptors in the server and as many in the clients; the limit is
# inherited by both. Root may raise the hard limit; others get what the hard limit allows.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
exec .venv/bin/python bench/compare.py "$@"

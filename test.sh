#!/usr/bin/env bash
# Set up everything the tests need (Python packages; redis-server, nginx, PostgreSQL and chromium
# from Debian's packages when they are missing) and run the whole test suite.
# Usage: ./test.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-system-deps.sh
scripts/bootstrap.sh requirements-dev.txt
echo "==> running the test suite"
exec .venv/bin/python -m pytest "$@"

#!/usr/bin/env bash
# Run the whole test suite. PostgreSQL tests run when the server answers, and we say so either way.
set -uo pipefail
cd "$(dirname "$0")/.."
PY="${ONEPRICE_PYTHON:-.venv/bin/python}"
# The layering contracts (pyproject.toml [tool.importlinter]) first: a broken one fails the run.
echo "== lint-imports"
if ! "$(dirname "$PY")/lint-imports"; then
  echo "import contracts broken"
  exit 1
fi
export ONEPRICE_TEST_PG_URL="${ONEPRICE_TEST_PG_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}"
if $PY - <<'PYEOF'
import os, sys
import psycopg
url = os.environ["ONEPRICE_TEST_PG_URL"].replace("postgresql+psycopg://", "postgresql://")
try:
    psycopg.connect(url, connect_timeout=3).close()
except Exception as exc:
    print(f"postgres check failed: {exc}", file=sys.stderr)
    sys.exit(1)
PYEOF
then
  echo "== PostgreSQL reachable at ${ONEPRICE_TEST_PG_URL}: running the postgres tests too"
  markers="not network and not gpu"
else
  echo "== PostgreSQL NOT reachable at ${ONEPRICE_TEST_PG_URL}: SKIPPING the postgres tests"
  markers="not network and not gpu and not postgres"
fi
workers="${ONEPRICE_TEST_WORKERS:-2}"
# One OpenMP/BLAS thread per xdist worker: N workers with N threads each oversubscribe N cores, and
# spinning OpenMP waits slow every process several-fold. A value set by the caller is kept.
case "$workers" in
  0 | 1) ;;
  *) export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" MKL_NUM_THREADS="${MKL_NUM_THREADS:-1}" \
       OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}" OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}" ;;
esac
$PY -m pytest -m "$markers" -n "$workers" --dist loadgroup "$@"
rc=$?
if [ "$rc" -eq 5 ]; then echo "no tests collected"; fi
exit $rc

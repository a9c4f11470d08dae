#!/usr/bin/env bash
# `make test`: the whole suite in two passes (docs/testing.md).
#   1. every test NOT marked `serial`, spread over $PYTEST_WORKERS pytest-xdist workers;
#   2. the tests marked `serial` (they measure time or a deadline), alone, one at a time.
# Both passes always run. The exit code is non-zero if either pass fails. pytest's exit 5
# ("no tests collected") is accepted for one pass only when the other pass did run tests
# (e.g. PYTEST_ARGS names one file without serial tests); both passes empty exits 5.
# Usage: tests/two_passes.sh PYTHON [pytest args...]
set -u
py=$1; shift
workers=${PYTEST_WORKERS:-4}

started=$(date +%s)
"$py" -m pytest -n "$workers" --dist loadgroup -m "not serial" "$@"
parallel=$?
middle=$(date +%s)
"$py" -m pytest -p no:xdist -m serial "$@"
serial=$?
ended=$(date +%s)

echo "make test: parallel pass ($workers workers) exit $parallel in $((middle - started)) s;" \
     "serial pass exit $serial in $((ended - middle)) s; total $((ended - started)) s"

if [ "$parallel" = 5 ] && [ "$serial" = 5 ]; then
  echo "make test: no tests selected in either pass" >&2
  exit 5
fi
for code in "$parallel" "$serial"; do
  if [ "$code" != 0 ] && [ "$code" != 5 ]; then exit "$code"; fi
done
exit 0

#!/usr/bin/env bash
# Run the whole test suite: installs what the tests need first (test extras, Debian's
# Chromium for the browser tests, ical.js for the calendar tests), then runs pytest with
# the arguments given, listing the 20 slowest tests. `scripts/test.sh -m "not slow"` is the
# quick tier: no served processes, browsers or long property runs.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -e '.[test]'

if [ ! -x /usr/bin/chromium ]; then
  echo "Installing Debian's Chromium for the browser tests"
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-noto-core >/dev/null
fi

if [ -f tests/js/package.json ]; then
  npm ci --silent --no-audit --no-fund --prefix tests/js
fi

exec .venv/bin/pytest --durations=20 "$@"

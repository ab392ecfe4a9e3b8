#!/usr/bin/env bash
# Run the whole benchmark campaign behind README's Performance tables, one run after the
# other (about 20 minutes): bench/fanout.py with one process and with two (Redis and
# PostgreSQL) at 100, 1000 and 2000 clients, then the shared yardstick at the same sizes.
#
#   bench/campaign.sh OUT TAG [SOURCE]   e.g. bench/campaign.sh bench/results/after after
#
# SOURCE is the checkout whose runsheet is served (default: this one), e.g. a worktree of
# an older commit for the "before" figures; YARDSTICK is a ready copy of ../shared/bench
# (default /tmp/bench, see its README). Leave the machine otherwise idle while it runs.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$1 tag=$2 source=${3:-.} yardstick=${YARDSTICK:-/tmp/bench}
mkdir -p "$out"
for processes in 1 2; do
  for clients in 100 1000 2000; do
    name="fanout-${processes}p-${clients}-${tag}"
    .venv/bin/python -m bench.fanout --clients "$clients" --processes "$processes" \
      --source "$source" --label "$name" --json "$out/$name.json" --quiet | tee "$out/$name.txt"
  done
done
for clients in 100 1000 2000; do
  .venv/bin/python -m bench.yardstick --yardstick "$yardstick" --clients "$clients" \
    --source "$source" --tag="-$tag" --out "$out"
done

#!/usr/bin/env bash
# Sample traffic at a given rate: ./test-data/feed.sh RATE COUNT [host:port]
# Sends COUNT messages at RATE per second, cycling through messages/, each with a unique MSH-10.
set -euo pipefail
if [[ $# -lt 2 ]]; then
  echo "usage: $0 RATE COUNT [host:port]   e.g. $0 50 1000" >&2
  exit 2
fi
here="$(cd "$(dirname "$0")" && pwd)"
exec "$here/../run.sh" send --quiet --rate "$1" --count "$2" --to "${3:-localhost:2575}" "$here"/messages/*.hl7

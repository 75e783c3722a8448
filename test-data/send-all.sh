#!/usr/bin/env bash
# Sends every sample message once and prints each ACK's MSA line: ./test-data/send-all.sh [host:port]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec "$here/../run.sh" send --to "${1:-localhost:2575}" "$here"/messages/*.hl7

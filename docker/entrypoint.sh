#!/bin/sh
# relgraph in a container: load the data directory (or a synthetic bank), analyse, serve.
# /input holds the bank's tables when mounted; otherwise RELGRAPH_SYNTH_CUSTOMERS are generated.
set -eu
INPUT="${RELGRAPH_INPUT:-/input}"
if [ ! -d "$INPUT" ] || [ -z "$(ls -A "$INPUT" 2>/dev/null)" ]; then
  INPUT="${RELGRAPH_DATA_DIR}/synthetic-bank"
  relgraph synth --out "$INPUT" --customers "${RELGRAPH_SYNTH_CUSTOMERS:-10000}"
fi
relgraph load "$INPUT"
relgraph analyze
exec relgraph serve --host "${RELGRAPH_HOST:-0.0.0.0}" --port "${RELGRAPH_PORT:-8000}"

#!/usr/bin/env bash
# The gateway's HL7 v2 ACKs to every HL7 sample, after the whole decision, parse with Debian's
# python3-hl7 (an implementation independent of ours) and carry the expected MSA-1 and MSA-2.
#   check_hl7_acks.sh RENDER_SAMPLE_REPLIES PYTHON3 SOURCE_DIR
set -euo pipefail
render="$1" python="$2" src="$3"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$render" "$out" "$src"/tests/data/samples/*.hl7
exec "$python" "$src/tests/adapters/check_hl7_ack.py" --acks "$out" --samples "$src/tests/data/samples" --decisions

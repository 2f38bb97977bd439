# The frontdoor image: frontdoor-gateway (the entrypoint), the frontdoor CLI and
# frontdoor-connector-sim, built from this folder on Debian 12 with Debian's own libraries.
#   docker build -t frontdoor/frontdoor-gateway:0.1.0 .
# The tag is the chart's default image (charts/frontdoor: image.repository, appVersion). The image
# runs as user 10001 with nothing to write outside /var/lib/frontdoor (the data directory) and /tmp,
# so it runs with a read-only root filesystem. Configuration, network data, certificates and keys
# come from outside (the chart mounts them); config/demo is in /etc/frontdoor/demo for trying it.

# ---- build: the release preset's three executables (no tests, no fuzzers)
FROM debian:12 AS build
ARG DEBIAN_FRONTEND=noninteractive
# scripts/install-deps' build packages, less what only the tests, fuzzers and demo use.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler \
      libabsl-dev libssl-dev libsqlite3-dev rapidjson-dev libsimdjson-dev \
      libpq-dev prometheus-cpp-dev libjemalloc-dev libboost1.81-dev libboost-url1.81-dev \
      libkainjow-mustache-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake --preset release -DFRONTDOOR_BUILD_TESTS=OFF \
 && cmake --build build/release --target frontdoor-gateway frontdoor frontdoor-connector-sim \
 && strip build/release/gateway/frontdoor-gateway build/release/tools/frontdoor build/release/tools/frontdoor-connector-sim

# ---- runtime: the shared libraries the executables link (ldd), nothing else
FROM debian:12-slim
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libgrpc++1.51 libgrpc29 libprotobuf32 libabsl20220623 libssl3 libsqlite3-0 libpq5 \
      libprometheus-cpp-core1.0 libprometheus-cpp-pull1.0 libjemalloc2 libsimdjson14 libboost-url1.81.0 \
      ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 frontdoor \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/frontdoor --no-create-home \
      --shell /usr/sbin/nologin frontdoor \
 && install -d -o 10001 -g 10001 -m 0700 /var/lib/frontdoor
COPY --from=build /src/build/release/gateway/frontdoor-gateway \
                  /src/build/release/tools/frontdoor \
                  /src/build/release/tools/frontdoor-connector-sim /usr/local/bin/
COPY config/demo /etc/frontdoor/demo
USER 10001
WORKDIR /var/lib/frontdoor
# gRPC (mutual TLS), the plaintext health port (grpc.health.v1 for probes), Prometheus metrics;
# the doors that are off unless asked for: BaRS (FHIR over HTTPS), MLLP, the web console.
EXPOSE 50051 8081 9090 8443 2575 8444
ENTRYPOINT ["/usr/local/bin/frontdoor-gateway"]
# The gateway still needs TLS (--config with a tls block, or the --tls-* flags) or, for local
# development only, --insecure-plaintext; the chart passes its own arguments.
CMD ["--listen=0.0.0.0:50051", "--health-listen=0.0.0.0:8081", "--metrics-listen=0.0.0.0:9090", "--data-dir=/var/lib/frontdoor"]

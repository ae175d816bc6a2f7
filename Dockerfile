# syntax=docker/dockerfile:1
# meetnow in a container: built with the Rust toolchain, run from a distroless image as a non-root user,
# with no shell, no package manager and nothing writable. Build and run:
#   docker build -t meetnow .
#   docker run --rm --env-file .env -p 8080:8080 -p 9464:9464 meetnow
# Kubernetes manifests for two replicas are in deploy/kubernetes/.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# The registry and target caches survive between builds (BuildKit); the binary is copied out of the cache.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin meetnow && cp target/release/meetnow /meetnow

# glibc and CA certificates, no shell; "nonroot" is uid 65532. meetnow writes no file and needs no $HOME.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /meetnow /usr/local/bin/meetnow
USER 65532:65532
# The interactions endpoint (MEETNOW_LISTEN_ADDR) and metrics/health (METRICS_ADDR), when configured.
EXPOSE 8080 9464
ENTRYPOINT ["/usr/local/bin/meetnow"]
CMD ["run"]

# syntax=docker/dockerfile:1
# Icy Morning: one static binary on an empty base, non-root. It serves the
# API on 0.0.0.0:8000 with SQLite in the /data volume, and is also a Lambda
# container image: under Lambda (AWS_LAMBDA_RUNTIME_API set) the same
# entrypoint serves invocations instead. `make image` builds it.

# The toolchain go.mod names, by tag and by the digest public Dockerfiles pin
# for that tag (it could not be checked against the registry from where this
# was written: scripts/image.sh says so when it cannot pull it).
ARG GO_IMAGE=golang:1.26.8-bookworm@sha256:dc9ad6c05acc7a88e5b71bde60a5fe3bd4b9f0db209011711b464107438a8107

FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS build
ARG TARGETOS=linux
ARG TARGETARCH
ARG VERSION=dev
ARG COMMIT=unknown
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN TARGETOS=$TARGETOS TARGETARCH=$TARGETARCH VERSION=$VERSION COMMIT=$COMMIT sh scripts/image-rootfs.sh /out

FROM scratch
ARG VERSION=dev
ARG COMMIT=unknown
COPY --from=build /out/rootfs/ /
COPY --from=build --chown=65532:65532 /out/data/ /data/
LABEL org.opencontainers.image.title="icy-morning" \
      org.opencontainers.image.description="Icy Morning: investment assets, their analysts and e-mail subscriptions to their events" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}" \
      org.opencontainers.image.source="https://github.com/icy-morning/icy-morning"
ENV ADDR=0.0.0.0:8000 \
    DATABASE_URL=sqlite:////data/icy-morning.db \
    ZONEINFO=/usr/share/zoneinfo.zip
USER 65532:65532
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/icy-morning", "healthcheck"]
# No CMD: with no arguments the binary serves, or under Lambda serves
# invocations; `docker run IMAGE migrate up` runs another command.
ENTRYPOINT ["/usr/local/bin/icy-morning"]

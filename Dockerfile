# The gatebridge image: the static gatebridge and gatebridge-server binaries on distroless "static", as the
# non-root user 65532. Build from the repository root:
#   docker build -t ghcr.io/gatebridge-dev/gatebridge:v0.1.0 --build-arg VERSION=v0.1.0 .
# (The image name is a placeholder until images are published.)

# golang:1.26 matches go.mod's go directive; BUILDPLATFORM/TARGETOS/TARGETARCH let buildx
# cross-compile without emulation.
FROM --platform=$BUILDPLATFORM golang:1.26 AS build
ARG TARGETOS=linux
ARG TARGETARCH=amd64
ARG VERSION=dev
WORKDIR /src
ENV GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false
# Modules first: this layer is cached until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN mkdir /out && GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath \
      -ldflags "-s -w -X github.com/gatebridge-dev/gatebridge/internal/cli.Version=${VERSION}" \
      -o /out/ ./cmd/gatebridge ./cmd/gatebridge-server

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/gatebridge /out/gatebridge-server /usr/local/bin/
USER 65532:65532
# gatebridge-server runs every command (the controller included) without gatebridge's
# hand-over; gatebridge is there for `kubectl exec … gatebridge report`.
ENTRYPOINT ["/usr/local/bin/gatebridge-server"]
CMD ["controller"]

# The cari binary for docker-compose.yml: built with the Go toolchain go.mod
# names (deploy/compose_test.go keeps the two in step), run on Debian slim
# (curl for the health check).
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN go build -trimpath -o /cari ./cmd/cari

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /cari /cari
ENTRYPOINT ["/cari"]

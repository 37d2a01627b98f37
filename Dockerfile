# The scanner as a container: a static musl build on a distroless base (CA certificates, no shell,
# runs as a non-root user). Entry point: the scanner, so `docker run IMAGE scan --demo` works.
#   docker build -t portcullis .
#   docker run --rm -e AWS_PROFILE -v ~/.aws:/home/nonroot/.aws:ro portcullis scan --aws
# BASE=gcr.io/distroless/static-debian12:debug-nonroot adds a busybox shell (GitLab CI jobs need one).
ARG BASE=gcr.io/distroless/static-debian12:nonroot

FROM rust:1.94-alpine AS build
RUN apk add --no-cache musl-dev cmake make perl clang
WORKDIR /src
COPY . .
RUN cargo build --release --locked && cp target/release/portcullis /portcullis

FROM ${BASE}
COPY --from=build /portcullis /usr/local/bin/portcullis
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/portcullis"]
CMD ["--help"]

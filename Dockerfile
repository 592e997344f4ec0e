# Builds csphub and runs it. Used by docker-compose.yml; not needed for development.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# The dist profile (Cargo.toml): slower to build, faster to run.
RUN cargo build --profile dist --locked

FROM debian:bookworm-slim
# Root certificates for issuers' JWKS URLs over https (add an internal CA here too).
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* && useradd --system --uid 10001 csphub
COPY --from=build /src/target/dist/csphub /usr/local/bin/csphub
USER csphub
ENV CSPHUB_BIND=0.0.0.0:8080
EXPOSE 8080
# Ready means the database answers too (GET /readyz); `csphub health` needs no curl.
HEALTHCHECK --interval=10s --timeout=6s --start-period=30s --retries=3 CMD ["csphub", "health"]
ENTRYPOINT ["csphub"]
CMD ["serve"]

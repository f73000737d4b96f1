# respql container image.
#
#   docker build -t respql .
#   docker run -p 6379:6379 respql                        # SQLite at /data/respql.sqlite
#   docker run -p 6379:6379 -v respql-data:/data respql   # ... kept in a named volume
#   docker run -p 6379:6379 -e DATABASE_URL=postgres://user:pw@db:5432/app respql
#   docker run --rm -v respql-data:/data respql migrate
#   docker run --rm respql import --from redis://redis:6379 --match 'sess:*'
#
# Settings are the respql environment variables (see `docker run --rm respql --help`).
# Prefer them to flags for the port and the password: the HEALTHCHECK's `respql ping`
# reads RESPQL_PORT, RESPQL_BIND and RESPQL_REQUIREPASS from the same environment.
#
# node:20 because better-sqlite3@12 is the line that supports Node 20 (13 needs Node 22).
# The build itself is scripts/build-image.sh, which CI runs without Docker
# (test/ops/build-image.test.ts).

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
# python3, make and g++ let better-sqlite3 compile from source when no prebuilt binary fits.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
# node-gyp uses the image's own Node headers rather than downloading them.
ENV npm_config_nodedir=/usr/local
WORKDIR /src
COPY package.json package-lock.json tsconfig.json knexfile.ts ./
COPY src ./src
COPY scripts/build-image.sh ./scripts/build-image.sh
RUN sh scripts/build-image.sh /src /app

FROM ${NODE_IMAGE}
# Listen on every interface of the container's own network, with protected mode off, as
# the official redis image does: the container is only reachable where its port is
# published. Publish it only where clients should reach it, or set RESPQL_REQUIREPASS.
ENV NODE_ENV=production \
    DATABASE_URL=/data/respql.sqlite \
    RESPQL_PORT=6379 \
    RESPQL_BIND=0.0.0.0 \
    RESPQL_PROTECTED_MODE=no
# The application is root-owned and read-only to the user that runs it.
COPY --from=build /app /app
RUN ln -s /app/dist/src/cli.js /usr/local/bin/respql \
 && mkdir -p /data \
 && chown node:node /data
USER node
WORKDIR /data
VOLUME /data
EXPOSE 6379
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 CMD ["respql", "ping"]
ENTRYPOINT ["respql"]
CMD ["serve"]

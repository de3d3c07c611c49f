# syntax=docker/dockerfile:1
#
# One build, one image per service, chosen by target:
#
#   docker build --target gateway        -t chatbot-keys/gateway .
#   docker build --target key-management -t chatbot-keys/key-management .
#   docker build --target auth-verifier  -t chatbot-keys/auth-verifier .
#   docker build --target usage-tracker  -t chatbot-keys/usage-tracker .
#   docker build --target demo-upstream  -t chatbot-keys/demo-upstream .
#   docker build --target migrate        -t chatbot-keys/migrate .   # one-shot: applies every migration
#
# All targets share the build and runtime layers, so building all six costs one build.
# Node 24 is an LTS line (maintained until April 2028); bump NODE_IMAGE to move to the next one.
ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: full dependency tree, compile, then drop dev dependencies ---------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
# Test code (specs, apps/*/test, libs/testing) never enters the context (.dockerignore): the
# build compiles production sources only, and would fail if one of them imported test code.
COPY scripts/clean-build.mjs ./scripts/
COPY libs ./libs
COPY apps ./apps
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# ---- runtime: production dependencies and the compiled output only -----------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and read-only to the service user: a compromised process cannot rewrite its code.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The migration runner (`npm run migrate` without its build step): runs each service's
# dist/apps/<service>/src/database/migrate.js in turn.
COPY scripts/system.mjs scripts/migrate.mjs ./scripts/
# uid/gid 1000 is the image's `node` user; numeric so Kubernetes can verify runAsNonRoot.
USER 1000:1000

FROM runtime AS demo-upstream
EXPOSE 8090
CMD ["node", "dist/apps/demo-upstream/src/main.js"]

FROM runtime AS key-management
EXPOSE 8081
CMD ["node", "dist/apps/key-management/src/main.js"]

FROM runtime AS auth-verifier
EXPOSE 8082
CMD ["node", "dist/apps/auth-verifier/src/main.js"]

FROM runtime AS usage-tracker
EXPOSE 8083
CMD ["node", "dist/apps/usage-tracker/src/main.js"]

FROM runtime AS migrate
CMD ["node", "scripts/migrate.mjs"]

# Last, so that a plain `docker build .` gives the gateway.
FROM runtime AS gateway
EXPOSE 8080
CMD ["node", "dist/apps/gateway/src/main.js"]

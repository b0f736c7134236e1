# syntax=docker/dockerfile:1
# One image for the four services; the command picks the role:
#   node services/api/src/main.ts             (the default: the API on PORT 8080)
#   node services/capture-worker/src/main.ts
#   node services/pod-worker/src/main.ts
#   node services/metrics-worker/src/main.ts
# The code runs as written, through Node's type stripping: there is no compiled output,
# so the build stage only installs, type-checks and drops the development packages.

FROM node:24-slim AS build
WORKDIR /app

# The manifests first, so that the dependency layer is rebuilt only when they change.
# Every workspace's package.json is needed for npm ci, local-cluster's and the CLI's too
# (their code is for operators' and developers' machines and is not copied).
COPY package.json package-lock.json tsconfig.json ./
COPY packages/shared/package.json packages/shared/
COPY packages/local-cluster/package.json packages/local-cluster/
COPY packages/cli/package.json packages/cli/
COPY services/api/package.json services/api/
COPY services/capture-worker/package.json services/capture-worker/
COPY services/pod-worker/package.json services/pod-worker/
COPY services/metrics-worker/package.json services/metrics-worker/
# No install scripts run: the native addons in the tree ship prebuilt binaries.
RUN npm ci --ignore-scripts --no-audit --no-fund

COPY packages/shared/src packages/shared/src
COPY services/api/src services/api/src
COPY services/capture-worker/src services/capture-worker/src
COPY services/pod-worker/src services/pod-worker/src
COPY services/metrics-worker/src services/metrics-worker/src

# A type error fails the build rather than the service at run time. Tests are not in
# the build context (.dockerignore), so this checks exactly the code the image runs.
RUN npx tsc --noEmit -p tsconfig.json \
  && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app

# Owned by root and not writable by the service user: the code cannot be changed at
# run time, and the pods also mount the root filesystem read-only.
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/packages packages
COPY --from=build /app/services services

# The node user (uid 1000) of the base image; k8s/base runs as the same uid.
USER node
EXPOSE 8080 9464
CMD ["node", "services/api/src/main.ts"]

# syntax=docker/dockerfile:1
# One image for every entry point: the API (default CMD), a single function
# (`node shared/runtime/main-function.js <name>`) and the embedded all-in-one. The TypeScript is
# compiled to JavaScript here, at build time; nothing runs through tsx in the image.

FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY shared ./shared
COPY functions ./functions
# dist/ mirrors the source tree, so paths relative to a module (console/dist) hold in the image.
RUN npx tsc -p tsconfig.build.json

FROM node:20-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:20-slim AS runtime
ENV NODE_ENV=production \
    PORT=8000 \
    AMAS_DATA_DIR=/tmp/amas-data \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NODE_OPTIONS="--enable-source-maps --max-semi-space-size=64"
WORKDIR /app
# Owned by root and read-only for the process; the app writes only to /tmp.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY --from=build /app/dist/shared ./shared
COPY --from=build /app/dist/functions ./functions
COPY console/dist ./console/dist
USER node
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8000) + '/health/orchestration').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "shared/runtime/main-embedded.js"]

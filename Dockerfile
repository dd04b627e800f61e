# syntax=docker/dockerfile:1
# One image for every entry point: the API (default CMD), a single function
# (`node --import tsx shared/runtime/main-function.ts <name>`) and the embedded all-in-one.

FROM node:20-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# tsx is a runtime dependency: the TypeScript sources run as they are, no build step.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:20-slim AS runtime
ENV NODE_ENV=production \
    PORT=8000 \
    NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /app
# Owned by root and read-only for the process; the app writes only to /tmp.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY shared ./shared
COPY functions ./functions
COPY console/dist ./console/dist
USER node
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8000) + '/health/orchestration').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "--import", "tsx", "shared/runtime/main-embedded.ts"]

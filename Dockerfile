# Vigil processor image. Build: docker build -t vigil:local .   (docker-compose.yml does it)
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are copied
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY schemas ./schemas
COPY examples ./examples
# The signing key lives on a volume (docker-compose.yml): created on first start, kept across restarts.
RUN mkdir -p /var/lib/vigil && chown node:node /var/lib/vigil
ENV VIGIL_SIGNING_KEY_FILE=/var/lib/vigil/signing-key.jwk
USER node
EXPOSE 9464
CMD ["node", "dist/cli/main.js", "start"]

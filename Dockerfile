# The relgraph API. `docker compose up` runs it against Neo4j 5 LTS with GDS (docker-compose.yml).
# The explorer and GraphiQL: npm packages pinned in web/package-lock.json, bundled by Vite into
# src/relgraph/api/static (what `make web` does), then packaged into the wheel below.
FROM node:20-slim AS web
WORKDIR /build/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web ./
RUN npm run build

FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml setup.py README.md requirements.lock ./
COPY src ./src
COPY cypher ./cypher
COPY --from=web /build/src/relgraph/api/static ./src/relgraph/api/static
# The lock pins every version (constraints: the image takes the runtime dependencies only).
RUN pip install --no-cache-dir -c requirements.lock . && useradd --system --uid 10001 relgraph \
    && mkdir -p /var/lib/relgraph && chown relgraph /var/lib/relgraph
COPY docker/entrypoint.sh /usr/local/bin/relgraph-entrypoint
USER relgraph
ENV RELGRAPH_DATA_DIR=/var/lib/relgraph RELGRAPH_ENV=production
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz')"
ENTRYPOINT ["relgraph-entrypoint"]

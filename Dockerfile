# The relgraph API. `docker compose up` runs it against Neo4j 5 LTS with GDS (docker-compose.yml).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml setup.py README.md requirements.lock ./
COPY src ./src
COPY cypher ./cypher
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

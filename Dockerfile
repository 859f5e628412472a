# One image for the API, the worker, migrations and the sandbox: `docker run worlddoor api|worker|migrate`.
FROM python:3.12-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml README.md ./
COPY . .
RUN /opt/venv/bin/pip install --upgrade pip && /opt/venv/bin/pip install .

FROM python:3.12-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 APP_ENV=production WORLDDOOR_VAR_DIR=/app/var
# pg_dump/pg_restore for `worlddoor backup|restore` and the backup workflow: the client must be
# at least the server's major version, so it comes from PostgreSQL's own apt repository.
ARG PG_CLIENT_MAJOR=16
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-common ca-certificates \
    && /usr/share/postgresql-common/pgdg/apt.postgresql.org.sh -y \
    && apt-get install -y --no-install-recommends "postgresql-client-${PG_CLIENT_MAJOR}" \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system worlddoor && useradd --system --gid worlddoor --home /app worlddoor
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
RUN mkdir -p /app/var && chown worlddoor:worlddoor /app/var
USER worlddoor
EXPOSE 8000
ENTRYPOINT ["worlddoor"]
CMD ["api", "--host", "0.0.0.0"]

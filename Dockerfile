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
RUN groupadd --system worlddoor && useradd --system --gid worlddoor --home /app worlddoor
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
RUN mkdir -p /app/var && chown worlddoor:worlddoor /app/var
USER worlddoor
EXPOSE 8000
ENTRYPOINT ["worlddoor"]
CMD ["api", "--host", "0.0.0.0"]

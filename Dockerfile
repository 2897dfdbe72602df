# One image for the projector worker and the API (the command picks which). The API: uvloop and
# httptools (uvicorn[standard]) named so a missing one fails at start; request metrics and logs are
# api/observability.py's, so uvicorn's per-request access log is off.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY events events
COPY projectors projectors
COPY readmodels readmodels
COPY api api
COPY tools tools
RUN pip install --no-cache-dir .
ENV PYTHONUNBUFFERED=1
CMD ["uvicorn", "--factory", "api.app:create_app", "--host", "0.0.0.0", "--port", "8000", "--loop", "uvloop", "--http", "httptools", "--no-access-log"]

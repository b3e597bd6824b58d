# The channelstream CLI (topic/schema provisioning, replay, audit). From the repository root:
#   docker build -f deploy/docker/cli.Dockerfile -t channelstream/cli .
FROM python:3.11-slim AS build
RUN pip install --no-cache-dir uv==0.9.30
WORKDIR /src
COPY pyproject.toml uv.lock ./
COPY libs ./libs
COPY services ./services
COPY schemas ./schemas
RUN uv export --frozen --no-dev --no-emit-workspace --package channelstream-cli -o /tmp/requirements.txt \
 && uv venv /opt/venv \
 && VIRTUAL_ENV=/opt/venv uv pip install --no-deps -r /tmp/requirements.txt \
 && VIRTUAL_ENV=/opt/venv uv pip install --no-deps ./libs/common ./libs/cli

FROM python:3.11-slim
RUN useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin app
COPY --from=build /opt/venv /opt/venv
COPY schemas/avro /app/schemas/avro
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 CHANNELSTREAM_SCHEMA_DIR=/app/schemas/avro
USER 10001
ENTRYPOINT ["channelstream"]

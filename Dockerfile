# One image, four processes (plus the one-shot migration):
#   python worker.py           Temporal worker (workflows + PostgreSQL/KIE activities)
#   python telegram_worker.py  Temporal worker for the activities that call the Telegram Bot API
#   python -m bot           Telegram bot
#   python -m webhooks      KIE callbacks
#   python -m db.migrate    database migrations (run once per deploy, before the others)
# Production dependencies only: no dev extras (test servers, pgserver, linters) in the image.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
# Dependencies first, at the lock's exact versions: this layer is cached until the lock changes.
COPY requirements/prod.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install -r /tmp/requirements.txt
# Then the code; pyproject's package-data brings the SQL migrations, catalog JSON/TOML and .po files along.
COPY . .
RUN /opt/venv/bin/pip install --no-deps . \
    && cd / && /opt/venv/bin/python -c "import db.migrate, catalog, bot, webhooks, workflows, activities, genflow.metrics"

FROM python:3.11-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    LOG_JSON=true
RUN groupadd --system --gid 10001 genflow \
    && useradd --system --uid 10001 --gid genflow --home-dir /app --no-create-home --shell /usr/sbin/nologin genflow
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY worker.py telegram_worker.py ./
USER genflow:genflow
# webhooks, bot (webhook mode), worker metrics, Telegram worker metrics
EXPOSE 8080 8082 9464 9465
# SIGTERM drains (the worker gives in-flight activities 30 s): give containers a longer stop grace period.
STOPSIGNAL SIGTERM
CMD ["python", "worker.py"]

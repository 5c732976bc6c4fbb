# One image for web, worker and beat; the command chooses the role (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY cxplatform cxplatform
COPY journeys journeys
COPY surveys surveys
COPY feedback feedback
COPY metrics metrics
COPY actions actions
RUN pip install .
COPY . .

# collectstatic needs settings that do not touch the database or the secrets of production.
RUN DEBUG=0 SECRET_KEY=build-only-not-secret-build-only-not-secret-0123456789 \
    python manage.py collectstatic --noinput

RUN useradd --system --uid 1000 cx && mkdir -p /app/media && chown cx /app/media
USER cx
EXPOSE 8000
CMD ["gunicorn", "cxplatform.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]

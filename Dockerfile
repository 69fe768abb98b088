# DealFinder production image: Debian 12 (its python3 loads SpatiaLite; GDAL/GEOS/PROJ for GeoDjango).
FROM debian:bookworm-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3 python3-venv gdal-bin libsqlite3-mod-spatialite ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && python3 -m venv /opt/venv \
 && useradd --system --create-home --home-dir /app app

WORKDIR /app
COPY requirements/ requirements/
RUN pip install --no-cache-dir --require-hashes -r requirements/base.txt

COPY --chown=app:app . .
# Static files are collected at build time and served by WhiteNoise. The values below
# exist only for this build step; the running container must be given real ones.
RUN SECRET_KEY=collectstatic-only DATABASE_URL=spatialite:////tmp/build.sqlite3 \
    python manage.py collectstatic --noinput -v0 \
 && rm -f /tmp/build.sqlite3 \
 && mkdir -p /app/var && chown app:app /app/var

USER app
ENV DJANGO_ENV=production
EXPOSE 8000
CMD ["gunicorn", "dealfinder.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120", "--access-logfile", "-"]

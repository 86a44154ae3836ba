# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VAR_DIR=/var/lib/shaoxiang \
    PORT=8000

RUN useradd --system --create-home --home-dir /home/shaoxiang shaoxiang \
 && mkdir -p /var/lib/shaoxiang && chown shaoxiang /var/lib/shaoxiang

WORKDIR /app
COPY pyproject.toml README.md ./
COPY config ./config
COPY core ./core
COPY grids ./grids
COPY powers ./powers
COPY enforcement ./enforcement
COPY assessment ./assessment
RUN pip install --no-cache-dir .
COPY . .

# Compiled catalogues and hashed static files are part of the image; the build-time key below
# only lets settings load, it is never used to sign anything.
RUN SECRET_KEY=build-only-not-a-secret-0123456789abcdef DEBUG=false \
    python manage.py translations_compile \
 && SECRET_KEY=build-only-not-a-secret-0123456789abcdef DEBUG=false \
    python manage.py collectstatic --noinput --verbosity 0 \
 && chown -R shaoxiang /var/lib/shaoxiang

USER shaoxiang
EXPOSE 8000
CMD ["sh", "-c", "exec gunicorn config.wsgi --preload --bind 0.0.0.0:${PORT} --workers 4 --worker-class gthread --threads 4 --timeout 60 --access-logfile -"]

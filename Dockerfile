# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VAR_DIR=/var/lib/shaoxiang \
    PORT=8000

RUN useradd --system --create-home --home-dir /home/shaoxiang shaoxiang \
 && mkdir -p /var/lib/shaoxiang && chown shaoxiang /var/lib/shaoxiang

WORKDIR /app
# The exact versions of the lock file (`make lock`), every file checked against its hash; a
# layer of its own, rebuilt only when the lock changes. Then the project without dependencies
# and without build isolation (its build backend, setuptools, is in the lock): nothing unpinned.
# pip check fails the build if pyproject.toml asks for what the lock lacks.
COPY requirements/lock.txt requirements/lock.txt
RUN pip install --no-cache-dir --require-hashes -r requirements/lock.txt
COPY pyproject.toml README.md ./
COPY config ./config
COPY core ./core
COPY grids ./grids
COPY powers ./powers
COPY enforcement ./enforcement
COPY assessment ./assessment
RUN pip install --no-cache-dir --no-deps --no-build-isolation . && pip check
# Everything else .dockerignore lets through: never .env, var/ or key files.
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

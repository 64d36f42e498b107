# The kafkagram runtime for docker-compose.yml: the install and the command of `make up`
# (pip install -c requirements.lock -e . ; kafkagram up), without the dev tools.
# Python = the local runtime's (pyproject requires-python), not the Lambda Runtime: tests/unit/deploy/test_dockerfile.py.
FROM python:3.11.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

RUN useradd --create-home --uid 10001 kafkagram
WORKDIR /app

# Dependencies first, from pyproject.toml and the lock only, so a code change reuses this layer.
COPY pyproject.toml requirements.lock ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -c requirements.lock -r /tmp/requirements.txt

COPY . .
RUN pip install -c requirements.lock -e . \
    && mkdir -p .run && chown kafkagram:kafkagram .run

USER kafkagram
EXPOSE 3000 3001 3002
# 0.0.0.0: the published ports reach the runtime only if it listens beyond the container's loopback.
CMD ["kafkagram", "--host", "0.0.0.0", "up"]

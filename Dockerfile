# syntax=docker/dockerfile:1
# cla-bot as a container image: the wheel built from this checkout, installed with the
# hash-checked runtime dependencies of requirements/runtime.txt, run by an unprivileged user.
#
#   docker build -t cla-bot .
#   docker run --rm --env-file /etc/cla-bot/env cla-bot cla-bot migrate   # once per release
#   docker run -d -p 8080:8080 --env-file /etc/cla-bot/env cla-bot        # or: ... cla-bot worker
#
# The environment file holds CLA_PUBLIC_URL, CLA_DATABASE_URL, the keys and the forge's
# credentials (README: Configuration). With SQLite, mount a volume on /srv/cla-bot/var.
# The stock app.yaml and templates/ are inside the package; mount your own and set CLA_CONFIG
# (and CLA_TEMPLATES_DIR) to change the policy or the texts.
ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim AS build
WORKDIR /src
# The locked setuptools builds the wheel: no build isolation, so nothing unchecked is fetched.
COPY requirements/ requirements/
RUN python -m venv /opt/build \
 && /opt/build/bin/pip install --no-cache-dir --require-hashes -r requirements/runtime.txt
COPY . .
RUN /opt/build/bin/pip wheel --no-cache-dir --no-deps --no-build-isolation --wheel-dir /dist .

FROM python:${PYTHON_VERSION}-slim
RUN useradd --system --create-home --home-dir /srv/cla-bot --shell /usr/sbin/nologin cla-bot
COPY requirements/runtime.txt /tmp/runtime.txt
COPY --from=build /dist/ /tmp/dist/
RUN python -m venv /opt/cla-bot \
 && /opt/cla-bot/bin/pip install --no-cache-dir --require-hashes -r /tmp/runtime.txt \
 && /opt/cla-bot/bin/pip install --no-cache-dir --no-deps /tmp/dist/*.whl \
 && rm -rf /tmp/runtime.txt /tmp/dist
ENV PATH=/opt/cla-bot/bin:$PATH \
    CLA_HOST=0.0.0.0 \
    PYTHONUNBUFFERED=1
USER cla-bot
WORKDIR /srv/cla-bot
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
CMD ["cla-bot", "serve"]

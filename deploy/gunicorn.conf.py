"""Gunicorn settings of the container image, read from ``GUNICORN_*`` environment variables.

docs/environment.md lists the variables. Like the Django settings, each one also accepts a
``<NAME>_FILE`` variant.
"""

import os

from src import env

wsgi_app = "src.wsgi:application"
bind = "0.0.0.0:8000"

# Each worker is a process holding its own database connections; threads serve requests
# concurrently inside it (gunicorn's gthread worker when threads > 1). Scale with pods first:
# the defaults suit a pod limited to one CPU.
workers = env.read_int("GUNICORN_WORKERS", 2)
threads = env.read_int("GUNICORN_THREADS", 4)

# Seconds a worker may spend on one request before the arbiter kills and replaces it.
timeout = env.read_int("GUNICORN_TIMEOUT_SECONDS", 30)
# Seconds the workers get to finish their requests after SIGTERM. The chart's
# terminationGracePeriodSeconds must leave room for it.
graceful_timeout = env.read_int("GUNICORN_GRACEFUL_TIMEOUT_SECONDS", 25)
# Seconds an idle keep-alive connection stays open. Keep it above the idle timeout the ingress
# controller applies to upstream connections (60 s in ingress-nginx), or the controller may
# reuse a connection gunicorn is closing and return 502.
keepalive = env.read_int("GUNICORN_KEEPALIVE_SECONDS", 75)

# Recycle a worker after this many requests, with jitter so they do not restart together,
# which bounds the memory a slow leak can take. 0 turns recycling off.
max_requests = env.read_int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = max_requests // 10

# Addresses whose X-Forwarded-Proto header gunicorn trusts for the request's scheme. Behind the
# chart's ingress, the NetworkPolicy lets only the ingress controller reach the pods, so the
# chart sets "*". Django reads the client's address and scheme itself (TRUSTED_PROXY_COUNT,
# SECURE_PROXY_SSL_HEADER).
forwarded_allow_ips = env.read("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# The root filesystem is read-only. Workers write their heartbeat files to a tmpfs (gunicorn
# creates them with mkstemp, so a shared folder is safe), and gunicorn's control socket, which
# would go under $HOME, is off.
SHARED_MEMORY = "/dev/shm"  # noqa: S108
worker_tmp_dir = SHARED_MEMORY if os.path.isdir(SHARED_MEMORY) else None
control_socket_disable = True

# The access log stays off because its plain-text lines would break the JSON log stream.
# NOTE: gunicorn's own lines (worker start, timeout, exit) are still plain text on stderr.
errorlog = "-"
loglevel = env.read("GUNICORN_LOG_LEVEL", "info")

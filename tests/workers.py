"""Real infrastructure for worker tests: a private Redis and a Celery worker process.

The worker is a separate `celery worker` process on the test database, so these tests need
committed data (`django_db(transaction=True)`).
"""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection

from cxplatform import broker
from cxplatform.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port, up=True, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            reachable = s.connect_ex(("127.0.0.1", port)) == 0
        if reachable == up:
            return
        time.sleep(0.05)
    raise TimeoutError(f"port {port} did not become {'reachable' if up else 'closed'}")


class PrivateRedis:
    """A redis-server of the test's own, so the test may stop and restart the broker."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed: .ci/run installs it")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_port(self.port, up=True)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        _wait_for_port(self.port, up=False)


@contextlib.contextmanager
def private_redis():
    redis = PrivateRedis()
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


@contextlib.contextmanager
def using_broker(url):
    """Send this process's tasks to `url` for real (not in-process) while the block runs."""
    conf = celery_app.conf
    saved = conf.broker_url, conf.task_always_eager, conf.broker_transport_options
    conf.broker_url, conf.task_always_eager = url, False
    conf.broker_transport_options = broker.transport_options(url)
    celery_app._after_fork()  # drop pooled connections to the previous broker
    try:
        yield
    finally:
        conf.broker_url, conf.task_always_eager, conf.broker_transport_options = saved
        celery_app._after_fork()


def test_database_url():
    s = connection.settings_dict
    user = s["USER"] or ""
    password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@contextlib.contextmanager
def celery_worker(broker_url, log_path=None, *, queues=None, name=None, **settings_env):
    """A `celery worker` process on the test database, stopped (warm shutdown) afterwards.
    `queues` limits it to some queues (all by default); `settings_env` sets more of its
    environment (e.g. OUTBOX_MAX_ATTEMPTS="2")."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cxplatform.settings",
        "DATABASE_URL": test_database_url(),
        "CELERY_BROKER_URL": broker_url,
        "CONN_MAX_AGE": "0",
        **settings_env,
    }
    log = open(log_path or os.devnull, "w")  # noqa: SIM115 — closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "cxplatform", "worker", "--pool=solo", "--loglevel=INFO",
         "--without-gossip", "--without-mingle", "--without-heartbeat",
         "-n", f"{name or 'test'}-{os.getpid()}@%h", *(["-Q", ",".join(queues)] if queues else [])],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield process
    finally:
        _stop(process, log)


def _stop(process, log):
    """Warm shutdown (SIGTERM), killed after 20 s; then the log is closed."""
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.close()


def wait_until(predicate, timeout=60.0, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


@contextlib.contextmanager
def web_server(broker_url, log_path=None, **settings_env):
    """A gunicorn process (one worker) serving the platform on the test database; yields its URL."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cxplatform.settings",
        "DATABASE_URL": test_database_url(),
        "CELERY_BROKER_URL": broker_url,
        "DEBUG": "1",
        "ALLOWED_HOSTS": "127.0.0.1",
        **settings_env,
    }
    env.pop("REDIS_URL", None)
    log = open(log_path or os.devnull, "w")  # noqa: SIM115 — closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "cxplatform.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--timeout", "60"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        _wait_for_port(port, up=True, timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(process, log)


@contextlib.contextmanager
def rabbitmq_vhost():
    """A RabbitMQ virtual host of the test's own on the machine's broker; yields its amqp URL."""
    import uuid

    if shutil.which("rabbitmqctl") is None:
        raise RuntimeError("rabbitmq-server is not installed: .ci/run installs and starts it")
    name = f"cx-test-{uuid.uuid4().hex[:10]}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", name], check=True, capture_output=True)
    try:
        subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", name, "guest", ".*", ".*", ".*"],
                       check=True, capture_output=True)
        yield f"amqp://guest:guest@127.0.0.1:5672/{name}"
    finally:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", name], capture_output=True)

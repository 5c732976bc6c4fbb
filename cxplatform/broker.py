"""Broker transport options, by broker. Imported by settings: no Django here."""


def transport_options(broker_url: str) -> dict:
    """Socket timeouts, so that a broker that is down or hangs (up, but not answering) holds a web
    request about a second at most; the outbox delivers later (docs/adr/0018)."""
    if broker_url.startswith(("redis://", "rediss://")):
        # A worker takes the first queue with a message in the order the queues are declared
        # (settings.CELERY_TASK_QUEUES: the loop lane first), not each queue in turn.
        return {"socket_timeout": 0.4, "socket_connect_timeout": 0.4, "queue_order_strategy": "priority"}
    if broker_url.startswith(("amqp://", "amqps://", "pyamqp://")):
        return {"read_timeout": 1, "write_timeout": 1}
    return {}

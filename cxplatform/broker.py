"""Broker transport options, by broker. Imported by settings: no Django here."""


def transport_options(broker_url: str) -> dict:
    """Socket timeouts, so that a broker that is down or hangs (up, but not answering) holds a web
    request about a second at most; the outbox delivers later (docs/adr/0018)."""
    if broker_url.startswith(("redis://", "rediss://")):
        return {"socket_timeout": 0.4, "socket_connect_timeout": 0.4}
    if broker_url.startswith(("amqp://", "amqps://", "pyamqp://")):
        return {"read_timeout": 1, "write_timeout": 1}
    return {}

import pytest
from django.db import connection


@pytest.mark.django_db
def test_healthz_reports_database_and_eager_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "eager", "events": {
        "lag_seconds": 0.0, "lanes": {"events": 0.0, "loop": 0.0}, "dead": 0}}


@pytest.mark.django_db(transaction=True)
def test_healthz_is_503_when_the_database_is_unreachable(client):
    settings_dict = connection.settings_dict
    saved = settings_dict["HOST"], settings_dict["PORT"]
    connection.close()
    settings_dict["HOST"], settings_dict["PORT"] = "127.0.0.1", "1"  # nothing listens there
    try:
        response = client.get("/healthz")
    finally:
        connection.close()
        settings_dict["HOST"], settings_dict["PORT"] = saved
    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"
    assert client.get("/healthz").status_code == 200  # and it recovers with the database


@pytest.mark.django_db
def test_the_container_health_check_passes_with_production_settings(client, settings):
    """docker-compose asks http://127.0.0.1:8000/healthz inside the container: with production's
    HTTPS redirect and a real ALLOWED_HOSTS it must still answer 200, not 301 or 400."""
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["cx.example.com"]
    response = client.get("/healthz", HTTP_HOST="127.0.0.1:8000")
    assert response.status_code == 200 and response.json()["database"] == "ok"
    # Every other page keeps both rules.
    assert client.get("/login/", HTTP_HOST="127.0.0.1:8000").status_code == 400
    assert client.get("/login/", HTTP_HOST="cx.example.com").status_code == 301

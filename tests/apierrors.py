"""Reading an API error in tests, whatever the body's shape: the fields that were refused."""


def error_fields(response) -> dict:
    """{field: [messages]} of a 4xx answer (`{"error": {"fields": …}}`, or DRF's own shape)."""
    body = response.json()
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"].get("fields") or {}
    return body if isinstance(body, dict) else {}

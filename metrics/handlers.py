"""Event handlers of the metrics app (registered in MetricsConfig.ready). Idempotent: each
recomputes from raw data."""

from . import rollups


def response_recorded(*, response_id: int, **_ids) -> None:
    rollups.refresh_for_response(response_id)

"""The demo's rollups, built from its year of responses so the dashboard has figures at once."""

from datetime import timedelta

from django.utils import timezone

from .services import rebuild_range


def load(demo):
    today = timezone.now().date()
    rebuild_range(demo.organization, today - timedelta(days=400), today + timedelta(days=1))

"""REST API of invitations: triggers from other systems (and, in time, campaigns)."""

ROUTES: list = []

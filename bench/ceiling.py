"""Settings of the load benchmark's ceiling: Django answering a view that does nothing
(`bench/ceiling_urls.py`).

`bench/load.py` serves it with the same gunicorn, workers and settings as the platform (every
middleware: sessions, CSRF, the content policy, the organization…) and, with `CEILING_BARE=1`,
with no middleware at all. Its requests per second bound what any page of the platform can
reach on the machine of the run: a customer needs at least two requests (the page and the
answer), so half of it is the most customers per second Django can serve there.
"""

import os

from cxplatform.settings import *  # noqa: F403 — the platform's settings, with the lines below changed

ROOT_URLCONF = "bench.ceiling_urls"
if os.environ.get("CEILING_BARE") == "1":
    MIDDLEWARE = []

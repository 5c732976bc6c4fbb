import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cxplatform import schedule


class Command(BaseCommand):
    help = ("Run the beat's schedule in this process (SLA checks, reminders, scheduled campaigns, digests): "
            "for the embedded default, which has no broker for `celery beat`. `make run` starts it.")

    def handle(self, *args, **options):
        if not settings.CELERY_TASK_ALWAYS_EAGER:
            raise CommandError("A broker is configured: run `celery -A cxplatform beat` (make beat) and a worker.")
        entries = schedule.entries()
        self.stdout.write(f"Running {len(entries)} scheduled tasks in this process.")
        while True:
            _ran, wait = schedule.tick(entries)
            time.sleep(wait)

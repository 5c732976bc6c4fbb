from django.core.management.base import BaseCommand

from cxplatform.demo import DEMO_PASSWORD, load_demo


class Command(BaseCommand):
    help = "Create (or refresh) the demo organization: an electric-scooter retailer."

    def handle(self, *args, **options):
        org, users = load_demo()
        self.stdout.write(self.style.SUCCESS(f"Demo organization ready: {org.name} ({org.slug})"))
        self.stdout.write("Open http://127.0.0.1:8000/ and log in as one of:")
        for user, role in users:
            self.stdout.write(f"  {user.username:<10} password: {DEMO_PASSWORD:<14} role: {role}")

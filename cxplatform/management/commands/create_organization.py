from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import URLValidator, validate_email, validate_slug
from django.utils.text import slugify
from django.utils.translation import override

from cxplatform.team import services


class Command(BaseCommand):
    help = ("Create an organization with its first administrator (a fresh install) and print a one-time "
            "sign-in link, valid for a day, where the administrator sets their password.")

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="The organization's name.")
        parser.add_argument("--admin-email", required=True,
                            help="The administrator's e-mail; an existing account with it is reused.")
        parser.add_argument("--slug", help="Short name in URLs and the API's X-Organization header "
                                           "(default: made from the name).")
        parser.add_argument("--language", default=settings.LANGUAGE_CODE,
                            choices=[code for code, _name in settings.LANGUAGES],
                            help="The organization's default language.")
        parser.add_argument("--base-url", default=settings.SITE_URL,
                            help="Where people reach the site, for the printed link (default: SITE_URL).")

    def handle(self, *args, name, admin_email, slug, language, base_url, **options):
        name = name.strip()
        if not name or len(name) > 200:
            raise CommandError("--name must be 1 to 200 characters.")
        slug = (slug or slugify(name))[:60]
        try:
            validate_email(admin_email.strip())
            validate_slug(slug)
            URLValidator(schemes=["http", "https"])(base_url)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        with override("en"):  # an operator's console, and the audit entry's stored text
            try:
                organization, user, link = services.create_organization(
                    name=name, admin_email=admin_email, slug=slug, language=language, base_url=base_url)
            except services.TeamRuleError as exc:
                raise CommandError(str(exc.message)) from None
        self.stdout.write(self.style.SUCCESS(f"Organization created: {organization.name} ({organization.slug})"))
        self.stdout.write(f"Administrator: {user.email} (username {user.get_username()})")
        self.stdout.write("Open this link within 24 hours to set the password and sign in (it works once):")
        self.stdout.write(link)

"""`manage.py invite --org SLUG --survey ID FILE`: a campaign to the contacts of a CSV/XLSX file,
through the same path as the campaign page — the customers upserted, a LIST audience, a campaign,
`services.schedule` and the run (`start_run`, the same skips, the same records), then the same
sending task (in this process on the embedded default, by the workers when there is a broker)."""

import os
import zoneinfo
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from cxplatform.models import Organization
from cxplatform.tabular import ImportFileError
from invitations import contact_lists, services, texts
from invitations.models import Campaign, Invitation, Medium, SkipReason
from surveys.models import Distribution, Survey


class DryRun(Exception):
    """Raised inside the transaction of a dry run, so that nothing it did is kept."""


class Command(BaseCommand):
    help = (
        "Send a survey to the contacts of a CSV or XLSX file (columns customer_external_id, email, phone, "
        "language, name, plus attribute columns): customers are matched and updated or created, and a "
        "campaign to them goes through the same checks, records and workers as one from the campaign page. "
        "Prints the counts: queued, skipped by reason, and each bad row with its line."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--survey", required=True, type=int, help="survey id")
        parser.add_argument("--link", "--distribution", dest="link", type=int,
                            help="survey link (distribution) id; default: the survey's first active link")
        parser.add_argument("--subject", help="e-mail subject ({name} and {organization} are filled in); "
                                              "default: the platform's wording in every language")
        parser.add_argument("--body", help="message text (\\n for a new line); with --subject/--body the "
                                           "message is in --language only")
        parser.add_argument("--language", help="language of --subject/--body (default: the organization's)")
        parser.add_argument("--sms", action="store_true", help="send a text message to each phone, not an e-mail")
        parser.add_argument("--send-at", help="when, e.g. 2026-05-04T09:00 (the organization's time zone "
                                              "unless an offset is given); default: now")
        parser.add_argument("--name", help="campaign name (default: the survey's name and the file's)")
        parser.add_argument("--dry-run", action="store_true",
                            help="read the file and count who would be queued or skipped; save nothing")
        parser.add_argument("file", help="path of a .csv or .xlsx file")

    def handle(self, *args, org, survey, file, **options):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"No organization with slug {org!r}.")
        survey_obj = Survey.objects.filter(organization=organization, pk=survey).first()
        if survey_obj is None:
            raise CommandError(f"No survey #{survey} in the organization {org!r}.")
        link = self._link(survey_obj, options["link"])
        medium = Medium.SMS if options["sms"] else Medium.EMAIL
        subject, body = self._message(organization, medium, options)
        send_at = self._send_at(organization, options["send_at"])
        name = os.path.basename(file)
        try:
            with open(file, "rb") as fileobj:
                contacts, errors = contact_lists.read(fileobj, name)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror or exc}") from None
        except ImportFileError as exc:
            raise CommandError(f"{file}: {exc}") from None

        result = contact_lists.ContactList(errors=list(errors))
        try:
            with transaction.atomic():
                contact_lists.upsert(organization=organization, contacts=contacts, result=result)
                if not result.customer_ids:
                    self._report(result, counts=None)
                    raise CommandError(f"{file}: no row names anyone to invite; nothing was sent.")
                stamp = timezone.localtime(timezone.now(), zoneinfo.ZoneInfo(organization.time_zone or "UTC"))
                audience = contact_lists.make_audience(organization=organization, customer_ids=result.customer_ids,
                                                       name=f"{name} ({stamp:%Y-%m-%d %H:%M})")
                campaign = Campaign.objects.create(
                    organization=organization, name=(options["name"] or f"{survey_obj.name}: {name}")[:200],
                    distribution=link, audience=audience, medium=medium, subject=subject, body=body)
                if options["dry_run"]:  # the same run, counted, then rolled back with everything else
                    services.schedule(campaign=campaign, send_at=None)
                    self._report(result, counts=services.start_run(campaign_id=campaign.pk))
                    raise DryRun
                services.schedule(campaign=campaign, send_at=send_at)  # the run starts on commit when due
        except DryRun:
            self.stdout.write("Dry run: nothing was saved or sent.")
            return
        except services.CampaignError as exc:
            raise CommandError(str(exc)) from None

        if send_at is not None and send_at > timezone.now():
            self._report(result, counts=None)
            self.stdout.write(self.style.SUCCESS(
                f"Campaign #{campaign.pk} scheduled for {send_at.isoformat()} to {len(result.customer_ids)} "
                "contacts; who is queued or skipped is decided then."))
            return
        # "Send now": the run may already have started on commit (in this process); else it starts here.
        counts = services.start_run(campaign_id=campaign.pk) or services.run_counts(campaign, run=1)
        self._report(result, counts=counts)
        sent = Invitation.objects.filter(campaign=campaign, sent_at__isnull=False).count()
        self.stdout.write(self.style.SUCCESS(f"Campaign #{campaign.pk}: {counts.queued} queued, {sent} sent so far."))

    def _link(self, survey: Survey, link_id: int | None) -> Distribution:
        links = Distribution.objects.filter(organization=survey.organization, survey=survey)
        if link_id is not None:
            link = links.filter(pk=link_id).first()
            if link is None:
                raise CommandError(f"The survey #{survey.pk} has no link #{link_id}.")
            return link
        active = list(links.filter(active=True).order_by("pk")[:2])
        if not active:
            raise CommandError(f"The survey #{survey.pk} has no active link: create one, or name one with --link.")
        return active[0]

    def _message(self, organization, medium: str, options) -> tuple[dict, dict]:
        if not (options["subject"] or options["body"]):
            return texts.defaults(medium=medium)
        language = options["language"] or organization.default_language
        default_subject, default_body = texts.defaults(medium=medium, languages=[language])
        if not default_body:
            raise CommandError(f"Unknown language {language!r}: use one of {', '.join(texts.BODY)}.")
        body = (options["body"] or default_body[language]).replace("\\n", "\n")
        subject = {language: options["subject"] or default_subject[language]} if medium == Medium.EMAIL else {}
        return subject, {language: body}

    def _send_at(self, organization, value: str | None) -> datetime | None:
        if not value:
            return None
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise CommandError(f"--send-at {value!r} is not a date and time: use e.g. 2026-05-04T09:00.") from None
        if timezone.is_naive(moment):
            moment = moment.replace(tzinfo=zoneinfo.ZoneInfo(organization.time_zone or "UTC"))
        return moment

    def _report(self, result: contact_lists.ContactList, *, counts) -> None:
        for line, reason in result.errors:
            self.stdout.write(f"line {line}: {reason}")
        skipped = dict(counts.skipped) if counts else {}
        if result.duplicates:
            skipped[SkipReason.DUPLICATE] = skipped.get(SkipReason.DUPLICATE, 0) + len(result.duplicates)
        self.stdout.write(f"customers: {result.created} created, {result.updated} updated")
        if counts is not None:
            self.stdout.write(f"queued: {counts.queued}")
        for reason, number in sorted(skipped.items()):
            self.stdout.write(f"skipped ({reason}): {number}")
        if result.errors:
            self.stdout.write(f"bad rows: {len(result.errors)}")

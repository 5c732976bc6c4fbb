import json

from django.core.management.base import BaseCommand, CommandError

from cxplatform.models import Organization
from metrics import selectors
from metrics.forms import ScopeForm


class Command(BaseCommand):
    help = "Print the CX figures of an organization (the same numbers as the dashboard and the API)."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--survey", action="append", default=[], help="survey id (repeatable)")
        parser.add_argument("--touchpoint", action="append", default=[], help="touchpoint id (repeatable)")
        parser.add_argument("--channel", action="append", default=[], help="channel id (repeatable)")
        parser.add_argument("--segment", action="append", default=[])
        parser.add_argument("--language", action="append", default=[])
        parser.add_argument("--from", dest="start", help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="end", help="last day (inclusive), YYYY-MM-DD")
        parser.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args, **o):
        organization = Organization.objects.filter(slug=o["org"]).first()
        if organization is None:
            raise CommandError(f"No organization with slug {o['org']!r}.")
        from django.http import QueryDict

        query = QueryDict(mutable=True)
        for name in ("survey", "touchpoint", "channel", "segment", "language"):
            query.setlist(name, o[name])
        for name in ("start", "end"):
            if o[name]:
                query[name] = o[name]
        form = ScopeForm(query, organization=organization)
        if not form.is_valid():
            raise CommandError(json.dumps(form.errors.get_json_data(), ensure_ascii=False))
        result = selectors.summary(form.scope())
        if o["json"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2, default=str))
            return
        for name, fig in result["metrics"].items():
            value = "—" if fig["value"] is None else fig["value"]
            moe = f" ±{fig['margin_of_error']}" if fig["margin_of_error"] is not None else ""
            mark = " (small sample)" if fig["small_sample"] else ""
            self.stdout.write(f"{name:>14}: {value}{moe}  n={fig['n']} skipped={fig['skipped']}{mark}")

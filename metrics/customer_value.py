"""Churn rate and customer lifetime value (CLV) from imported customer data (read-only queries).

The inputs are the customers' `active_since`, `cancelled_on` and `revenue` (revenue to date),
imported with `cxplatform.customer_import`; the formulas are `definitions.churn_rate` and
`definitions.clv`. Every figure is a database aggregate: a page costs one or two queries however
many customers the organization has.
"""

from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Count, DateField, F, Func, IntegerField, Q, Sum, TextField, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce, Greatest, Least

from cxplatform.models import Customer
from cxplatform.tenancy import scoped

from . import definitions

DAYS_PER_MONTH = 30  # the month of "monthly churn" and "revenue per month"
CENT = Decimal("0.01")


class DaysBetween(Func):
    """Whole days from the second date to the first (a date difference, on every database)."""

    arg_joiner = " - "
    template = "(%(expressions)s)"  # PostgreSQL: date - date is an integer number of days
    output_field = IntegerField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler, connection, template="(julianday(%(expressions)s))", arg_joiner=") - julianday(",
            **extra_context,
        )


def monthly_churn(churn_fraction: float, days: int) -> float:
    """The churn of a period of `days` days scaled to a month of 30 days: 1 − (1 − c)^(30/days)."""
    return 1 - (1 - churn_fraction) ** (DAYS_PER_MONTH / days)


def customers(organization, segments=()):
    """The organization's customers, limited to `segments` of its segment attribute when given."""
    qs = scoped(Customer, organization).order_by()
    if segments:
        attribute = organization.segment_attribute or "segment"
        # Coalesce makes it a plain text expression (SQLite cannot compare a JSON key with IN).
        segment = Coalesce(KeyTextTransform(attribute, "attributes"), Value(""), output_field=TextField())
        qs = qs.alias(segment_value=segment).filter(
            segment_value__in=[str(s) for s in segments]
        )
    return qs


def customer_value(organization, start: date, end: date, segments=(), gross_margin=None, *, as_of=None) -> dict:
    """Churn rate of the period [start, end) and CLV, with what they are made of.

    - **Customers at start**: customers on the day `start`: `active_since` ≤ start and not
      cancelled before start (`cancelled_on` empty or ≥ start). A customer without
      `active_since` (one a survey answer created, or imported without the date) counts from the
      day it was added to the platform (`created_at`, UTC): it is a customer we know of, and
      leaving it out would leave such an organization with no churn at all. Import
      `active_since` for figures that reach further back.
    - **Lost**: those customers at start whose `cancelled_on` is in [start, end). A customer
      who both joins and leaves inside the period is neither at start nor lost, so the churn
      rate (lost / customers at start, `definitions.churn_rate`) stays within 0–100 %.
    - **Average revenue per month** (per customer): over the customers active at some time in
      the period (`active_since` before `end` and not cancelled before `start`) who have a
      revenue and an `active_since`, their revenue ÷ their months as customers, both summed
      (revenue per customer-month, so a customer of a few weeks with a one-off purchase weighs
      by those weeks, not like a customer of years). Revenue is to date, so the months run from
      `active_since` to `cancelled_on`, or to `as_of` (today) for a customer who stays; a month
      is 30 days, and a customer of less than a month counts one month.
    - **CLV** (`definitions.clv`): average revenue per month × gross margin (the argument, else
      the setting `CX_GROSS_MARGIN`, 1.0 by default meaning a revenue-based CLV) ÷ monthly churn,
      the period's churn scaled to 30 days: 1 − (1 − churn)^(30 / days of the period). No churn
      in the period, or no revenue, gives no CLV (None), never a division by zero.
    """
    days = (end - start).days
    if days <= 0:
        raise ValueError("The period [start, end) must be at least one day long.")
    as_of = as_of or datetime.now(UTC).date()
    margin = float(getattr(settings, "CX_GROSS_MARGIN", 1.0) if gross_margin is None else gross_margin)
    base = customers(organization, segments)

    day_after_start = datetime.combine(start + timedelta(days=1), time.min, tzinfo=UTC)
    known_at_start = Q(active_since__lte=start) | Q(active_since__isnull=True, created_at__lt=day_after_start)
    at_start = known_at_start & (Q(cancelled_on__isnull=True) | Q(cancelled_on__gte=start))
    counts = base.aggregate(
        at_start=Count("pk", filter=at_start),
        lost=Count("pk", filter=at_start & Q(cancelled_on__lt=end)),
    )
    churn = definitions.churn_rate(counts["lost"], counts["at_start"])

    last_day = Least(Coalesce("cancelled_on", Value(as_of, output_field=DateField())),
                     Value(as_of, output_field=DateField()))
    tenure_days = Greatest(DaysBetween(last_day, F("active_since")), Value(DAYS_PER_MONTH))
    paying = base.filter(
        Q(cancelled_on__isnull=True) | Q(cancelled_on__gte=start),
        revenue__gt=0, active_since__isnull=False, active_since__lt=end, active_since__lte=as_of,
    ).aggregate(revenue=Sum("revenue"), days=Sum(tenure_days), customers=Count("pk"))
    average = None
    if paying["revenue"] is not None and paying["days"]:
        per_day = Decimal(paying["revenue"]) / Decimal(round(paying["days"]))
        average = (per_day * DAYS_PER_MONTH).quantize(CENT, ROUND_HALF_UP)

    monthly = monthly_churn(churn.value / 100, days) if churn.value is not None else 0.0
    # Without a revenue figure there is no CLV: churn 0 makes `definitions.clv` say so (None).
    clv = definitions.clv(average or 0, margin, monthly if average is not None else 0.0,
                          customers=paying["customers"] if average is not None else 0)
    return {
        "churn_rate": churn,
        "clv": clv,
        "customers_at_start": counts["at_start"],
        "lost": counts["lost"],
        "average_revenue_per_month": average,
    }


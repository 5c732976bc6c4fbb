"""The demo organization: VoltRide, an electric-scooter retailer in Riga.

The platform core creates the organization, its team (one user per role) and its customers;
then every app that has a `demo` module adds its part through `load(demo)`, in the order of
INSTALLED_APPS (the direction of dependency), so the demo grows with each capability.
Running it again refreshes nothing twice: every step is idempotent.
"""

import random
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from .models import Customer, Membership, Notification, Organization, Role

DEMO_SLUG = "voltride"
DEMO_PASSWORD = "voltride-demo"  # noqa: S105 — the demo login, printed on purpose  # nosec B105

TEAM = [
    ("admin", "Anna", "Bērziņa", Role.ADMIN),
    ("manager", "Maksim", "Orlov", Role.CX_MANAGER),
    ("agent", "Laura", "Kalniņa", Role.AGENT),
    ("agent2", "Dmitrij", "Petrov", Role.AGENT),
    ("viewer", "Edgars", "Ozols", Role.VIEWER),
]

FIRST_NAMES = {
    "ru": ["Алексей", "Мария", "Иван", "Ольга", "Сергей", "Наталья", "Дмитрий", "Елена", "Андрей", "Татьяна"],
    "lv": ["Jānis", "Līga", "Andris", "Ilze", "Mārtiņš", "Inese", "Kristaps", "Zane", "Artūrs", "Dace"],
    "en": ["James", "Emily", "Oliver", "Sophie", "Daniel", "Grace", "Thomas", "Chloe", "Henry", "Lucy"],
}
LAST_NAMES = {
    "ru": ["Иванов", "Смирнова", "Кузнецов", "Попова", "Соколов", "Лебедева", "Козлов", "Новикова"],
    "lv": ["Bērziņš", "Kalniņa", "Ozols", "Liepa", "Krūmiņš", "Zariņa", "Vītols", "Jansone"],
    "en": ["Smith", "Brown", "Taylor", "Wilson", "Evans", "Walker", "Wright", "Green"],
}
SEGMENTS = {
    "plan": ["purchase", "subscription", "corporate fleet"],
    "city": ["Riga", "Jūrmala", "Daugavpils", "Liepāja"],
    "model": ["VR City", "VR Pro", "VR Cargo"],
}


@dataclass
class DemoContext:
    organization: Organization
    users: dict = field(default_factory=dict)  # role/username -> User
    customers: list = field(default_factory=list)
    rng: random.Random = field(default_factory=lambda: random.Random(20261125))  # noqa: S311 — demo data  # nosec B311


def _team(org):
    User = get_user_model()
    users = {}
    for username, first, last, role in TEAM:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "email": f"{username}@voltride.example"},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        Membership.objects.update_or_create(user=user, organization=org, defaults={"role": role})
        users[username] = user
    return users


# A scooter's price by model (EUR), for the demo customers' revenue.
MODEL_PRICES = {"VR City": (449, 649), "VR Pro": (899, 1199), "VR Cargo": (1299, 1499)}
SERVICE_VISIT = Decimal("35.00")
CANCELLED_SHARE = 0.12


def _customer_value(rng, attributes, today):
    """active_since within the last two years, revenue (scooters plus service), ~12% cancelled."""
    active_since = today - timedelta(days=rng.randint(20, 730))
    cancelled_on = None
    if rng.random() < CANCELLED_SHARE:
        cancelled_on = active_since + timedelta(days=rng.randint(14, max((today - active_since).days, 14)))
        cancelled_on = min(cancelled_on, today)
    low, high = MODEL_PRICES.get(attributes.get("model"), (400, 1500))
    scooters = rng.randint(2, 6) if attributes.get("plan") == "corporate fleet" else 1
    months = ((cancelled_on or today) - active_since).days // 30
    service_visits = rng.randint(0, months // 3 + 1) * scooters
    revenue = Decimal(rng.randint(low, high) * scooters) + SERVICE_VISIT * service_visits
    return {"active_since": active_since, "cancelled_on": cancelled_on, "revenue": revenue}


def _customers(ctx, count=400):
    org, rng = ctx.organization, ctx.rng
    # Its own generator, so adding customer value left ctx.rng (and every later app's demo) as it was.
    value_rng = random.Random(f"{org.slug}:customer-value")  # noqa: S311 — demo data  # nosec B311
    today = timezone.now().date()
    existing = {c.external_id: c for c in Customer.objects.for_org(org)}
    new, backfilled = [], []
    for i in range(1, count + 1):
        external_id = f"VR-{10000 + i}"
        language = rng.choices(["ru", "lv", "en"], weights=[45, 35, 20])[0]
        name = f"{rng.choice(FIRST_NAMES[language])} {rng.choice(LAST_NAMES[language])}"
        attributes = {key: rng.choice(values) for key, values in SEGMENTS.items()}
        value = _customer_value(value_rng, attributes, today)
        customer = existing.get(external_id)
        if customer is None:
            new.append(
                Customer(
                    organization=org,
                    external_id=external_id,
                    name=name,
                    email=f"customer{i}@mail.example",
                    phone=f"+3712{i:07d}",
                    language=language,
                    attributes=attributes,
                    **value,
                )
            )
        elif customer.active_since is None and customer.cancelled_on is None and not customer.revenue:
            # A demo loaded before customers had a value gets one once; later runs change nothing.
            for key, field_value in value.items():
                setattr(customer, key, field_value)
            backfilled.append(customer)
    Customer.objects.bulk_create(new)
    Customer.objects.bulk_update(backfilled, ["active_since", "cancelled_on", "revenue"])
    return list(Customer.objects.for_org(org).order_by("id"))


DEMO_BRAND_COLOUR = "#0b7a55"  # VoltRide green: 5.3:1 on white, so it passes WCAG AA


def _demo_logo() -> bytes:
    """VoltRide's logo, drawn here so the repository holds no picture files."""
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (240, 64), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, 63, 63), radius=14, fill=DEMO_BRAND_COLOUR)
    draw.polygon([(36, 8), (18, 36), (31, 36), (26, 56), (46, 26), (33, 26)], fill="#ffffff")  # a bolt
    draw.text((76, 18), "VoltRide", fill="#1c2430", font_size=28)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _branding(org):
    from django.core.files.base import ContentFile

    from .branding import save_branding
    from .models import Branding
    from .tenancy import scoped

    if scoped(Branding, org).exists():
        return  # a second load keeps what the demo's admin may have changed
    save_branding(organization=org, colour=DEMO_BRAND_COLOUR, font=Branding.Font.ROUNDED,
                  logo=ContentFile(_demo_logo(), name="voltride.png"))


def app_demo_modules():
    """Each installed app's `demo` module, lower apps first (INSTALLED_APPS order)."""
    modules = []
    for config in apps.get_app_configs():
        name = f"{config.name}.demo"
        if config.name != "cxplatform" and find_spec(config.name) and find_spec(name):
            modules.append(import_module(name))
    return modules


DEMO_UNREAD_NOTICES = 5


def _read_all_but_the_latest(org) -> None:
    """A working team has read its older notices: each member starts with the latest few unread,
    not with one for every item the demo's year of history routed to them."""
    unread = Notification.objects.filter(organization=org, in_bell=True, read_at__isnull=True)
    for user_id in unread.values_list("user_id", flat=True).distinct():
        keep = unread.filter(user_id=user_id).order_by("-created_at", "-id").values_list("pk", flat=True)
        unread.filter(user_id=user_id).exclude(pk__in=list(keep[:DEMO_UNREAD_NOTICES])).update(read_at=timezone.now())


@transaction.atomic
def load_demo():
    org, _ = Organization.objects.get_or_create(
        slug=DEMO_SLUG, defaults={"name": "VoltRide Scooters", "default_language": "lv", "segment_attribute": "plan"}
    )
    ctx = DemoContext(organization=org)
    ctx.users = _team(org)
    ctx.customers = _customers(ctx)
    _branding(org)
    for module in app_demo_modules():
        module.load(ctx)
    # The notices the demo's own history wrote (items its rules routed, cases they opened) show in the
    # bell; none is e-mailed — its people's addresses are made up. Their e-mails are handed on when
    # this transaction commits, and find nothing marked to send.
    Notification.objects.filter(organization=org, mail_wanted=True, mailed_at__isnull=True).update(mail_wanted=False)
    _read_all_but_the_latest(org)
    return org, [(ctx.users[u], role.label) for u, _f, _l, role in TEAM]

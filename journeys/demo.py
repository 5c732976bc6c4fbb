"""VoltRide's channels and touchpoints, from the first look online to repairs."""

from .models import Channel, Touchpoint

CHANNELS = [
    ("Website", Channel.Kind.WEB),
    ("Showroom", Channel.Kind.STORE),
    ("Call centre", Channel.Kind.CALL_CENTRE),
    ("VoltRide app", Channel.Kind.APP),
    ("E-mail", Channel.Kind.EMAIL),
    ("Courier delivery", Channel.Kind.DELIVERY),
]

TOUCHPOINTS = [
    ("Product page", "Website", "Comparing models, range and price online."),
    ("Test ride", "Showroom", "Trying a scooter in the Riga showroom."),
    ("Online checkout", "Website", "Paying for a scooter or a subscription."),
    ("Home delivery", "Courier delivery", "The scooter arrives, is unpacked and explained."),
    ("App onboarding", "VoltRide app", "Pairing the scooter with the app and first ride."),
    ("Support call", "Call centre", "Calling about a fault, a bill or a question."),
    ("Service repair", "Showroom", "A scooter in the service centre for repair."),
]


def load(demo):
    org = demo.organization
    channels = {}
    for name, kind in CHANNELS:
        channels[name], _ = Channel.objects.get_or_create(organization=org, name=name, defaults={"kind": kind})
    demo.touchpoints = {}
    for name, channel, description in TOUCHPOINTS:
        demo.touchpoints[name], _ = Touchpoint.objects.get_or_create(
            organization=org, name=name, defaults={"channel": channels[channel], "description": description}
        )
    demo.channels = channels

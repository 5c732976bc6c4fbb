"""VoltRide's channels and touchpoints, from the first look online to repairs, and two personas
with a journey map each: the urban commuter buying a scooter and the fleet manager of a company."""

from . import services
from .models import Channel, JourneyMap, Persona, Touchpoint

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
    demo.personas, demo.journey_maps = {}, {}
    actor = getattr(demo, "users", {}).get("manager")
    for spec in PERSONAS:
        persona, _ = Persona.objects.get_or_create(organization=org, name=spec["name"], defaults=spec["fields"])
        demo.personas[persona.name] = persona
        journey_map = JourneyMap.objects.filter(persona=persona, name=spec["map"]).first()
        if journey_map is None:
            journey_map = _build_map(org, persona, spec, channels, actor)
        demo.journey_maps[journey_map.name] = journey_map


STAGES = ["Awareness", "Consideration", "Purchase", "Use", "Loyalty"]

# The designed journey: touchpoint → (stage, customer goal, department, expected emotion −2…+2).
COMMUTER_TOUCHPOINTS = [
    ("Product page", "Consideration", "Find the model with enough range for the daily commute.", "E-commerce", 1),
    ("Test ride", "Consideration", "Feel how the scooter rides before paying for it.", "Retail", 2),
    ("Online checkout", "Purchase", "Pay quickly, with the delivery date known.", "E-commerce", 0),
    ("Home delivery", "Purchase", "Get the scooter on the promised day, ready to ride.", "Logistics", 1),
    ("App onboarding", "Use", "Pair the scooter with the phone and start riding.", "Product", -1),
    ("Support call", "Use", "Get a fault or a bill sorted in one call.", "Customer service", -1),
    ("Service repair", "Loyalty", "Have the scooter back quickly, fixed for good.", "Service", 0),
]

# The fleet manager's own touchpoints: (name, channel, stage, description, goal, department, emotion).
FLEET_TOUCHPOINTS = [
    ("Fleet quote", "E-mail", "Evaluation", "A quote for ten or more scooters with service included.",
     "Compare the total cost of a fleet with car-sharing and taxis.", "B2B sales", 0),
    ("Fleet handover", "Courier delivery", "Rollout", "Scooters delivered to the office, staff shown how to ride.",
     "Get every employee riding in the first week.", "Logistics", 1),
    ("Fleet service contract", "Call centre", "Service", "One number for repairs and replacements of the fleet.",
     "Keep the whole fleet on the road without chasing repairs.", "B2B account management", 0),
]

PERSONAS = [
    {
        "name": "Urban commuter",
        "fields": {
            "description": "Rides 5-15 km to work in Riga, buys or subscribes to one scooter, "
                           "uses the app every day.",
            "goals": "Get to work faster than by bus, with no parking worries and a scooter that just works.",
            "segment_rule": {"attribute": "plan", "values": ["purchase", "subscription"]},
        },
        "map": "Scooter purchase",
        "description": "From comparing models online to the first service visit.",
        "stages": STAGES,
        "pain_points": [
            ("Deliveries arrive a day or more later than promised.", 3, "Home delivery"),
            ("Pairing the scooter with the app fails or needs several tries.", 3, "App onboarding"),
        ],
        "opportunities": [
            ("Delivery time slots with live courier tracking by SMS.", "high", 0),
            ("The courier pairs the scooter with the customer's phone at handover.", "medium", 1),
            ("Test rides at home or at the office, booked online.", "medium", None),
        ],
    },
    {
        "name": "Fleet manager",
        "fields": {
            "description": "Runs the scooter fleet of a company: buys, rolls out and keeps 10-50 scooters going.",
            "goals": "A predictable monthly cost and no scooter off the road for more than a day.",
            "segment_rule": {"attribute": "plan", "values": ["corporate fleet"]},
        },
        "map": "Corporate fleet",
        "description": "A company's fleet, from the quote to the service contract.",
        "stages": ["Evaluation", "Contract", "Rollout", "Service"],
        "pain_points": [
            ("A fleet quote takes more than a week.", 2, "Fleet quote"),
        ],
        "opportunities": [
            ("An online fleet configurator with an instant quote.", "high", 0),
        ],
    },
]


def _build_map(org, persona, spec, channels, actor):
    journey_map = services.create_map(persona, spec["map"], actor, stages=spec["stages"],
                                      description=spec["description"])
    stages = {stage.name: stage for stage in journey_map.stages.all()}
    if persona.name == "Urban commuter":
        for name, stage, goal, department, emotion in COMMUTER_TOUCHPOINTS:
            touchpoint = Touchpoint.objects.get(organization=org, name=name)
            services.move_touchpoint(touchpoint, stages[stage], None, actor)
            services.update_touchpoint(touchpoint, actor, customer_goal=goal, department=department,
                                       expected_emotion=emotion)
    else:
        for name, channel, stage, description, goal, department, emotion in FLEET_TOUCHPOINTS:
            touchpoint = Touchpoint.objects.filter(organization=org, name=name).first()
            fields = {"channel": channels[channel], "description": description, "customer_goal": goal,
                      "department": department, "expected_emotion": emotion}
            if touchpoint is None:
                services.add_touchpoint(stages[stage], name, actor, **fields)
            else:
                services.move_touchpoint(touchpoint, stages[stage], None, actor)
                services.update_touchpoint(touchpoint, actor, **fields)
    on_map = {t.name: t for t in Touchpoint.objects.filter(stage__journey_map=journey_map)}
    pain_points = [
        services.add_pain_point(journey_map, description, actor, severity=severity, touchpoint=on_map[touchpoint])
        for description, severity, touchpoint in spec["pain_points"]
    ]
    for idea, impact, pain_point in spec["opportunities"]:
        services.add_opportunity(journey_map, idea, actor, impact=impact,
                                 pain_point=pain_points[pain_point] if pain_point is not None else None)
    return journey_map

"""One way to make a row of every organization-scoped model, for tests that walk all of them.

A test that walks the URL conf asks here for an object of the model a URL argument names; a
new model with a URL gets a factory here, or that test fails and says so.
"""

import itertools

from cxplatform.models import Customer
from journeys.models import Channel, Touchpoint

_seq = itertools.count(1)


def customer(org):
    n = next(_seq)
    return Customer.objects.create(organization=org, external_id=f"C{n}", name=f"Customer {n}", email=f"c{n}@x.example")


def channel(org):
    return Channel.objects.create(organization=org, name=f"Channel {next(_seq)}")


def touchpoint(org):
    return Touchpoint.objects.create(organization=org, name=f"Touchpoint {next(_seq)}", channel=channel(org))


FACTORIES = {
    Customer: customer,
    Channel: channel,
    Touchpoint: touchpoint,
}


def make(model, org):
    try:
        factory = FACTORIES[model]
    except KeyError:
        raise LookupError(f"tests/factories.py has no factory for {model.__name__}: add one") from None
    return factory(org)

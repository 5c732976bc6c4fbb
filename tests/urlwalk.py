"""Walk the whole URL conf, so every URL added later is covered by the tenancy and role tests."""

from dataclasses import dataclass

from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RoutePattern

# URL arguments that are not database ids of the current organization's rows: public links
# carry signed tokens and are tested by their own app's tests.
NON_OBJECT_KWARGS = {"format", "token", "uidb64", "public_id", "score"}
# Namespaces outside tenancy: the Django admin is for superusers only.
SKIPPED_NAMESPACES = {"admin"}


@dataclass
class Route:
    name: str  # "namespace:name", reversible
    kwargs: tuple[str, ...]
    callback: object

    @property
    def model_for_kwarg(self):
        return {kwarg: model_for(self, kwarg) for kwarg in self.kwargs}


def _kwarg_names(pattern):
    if isinstance(pattern.pattern, RoutePattern):
        return tuple(pattern.pattern.converters)
    return tuple(pattern.pattern.regex.groupindex)


def routes(resolver=None, namespace=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace
            if ns in SKIPPED_NAMESPACES:
                continue
            nested = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            for route in routes(entry, nested):
                route.kwargs = _kwarg_names(entry) + route.kwargs
                yield route
        elif isinstance(entry, URLPattern) and entry.name:
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            yield Route(name=name, kwargs=_kwarg_names(entry), callback=entry.callback)


def model_for(route, kwarg):
    """The model whose id fills `kwarg`: DRF's `pk` is the viewset's model; `<model>_id` names it."""
    if kwarg == "pk":
        cls = getattr(route.callback, "cls", None)
        if cls is None or getattr(cls, "queryset", None) is None:
            raise LookupError(f"{route.name}: cannot tell the model behind 'pk'")
        return cls.queryset.model
    if kwarg.endswith("_id"):
        model_name = kwarg[: -len("_id")].replace("_", "")
        for model in apps.get_models():
            if model._meta.model_name == model_name:
                return model
    raise LookupError(f"{route.name}: URL argument {kwarg!r} names no model (use '<model>_id')")


def object_routes():
    """Routes whose arguments are all ids of organization rows."""
    return [r for r in routes() if r.kwargs and not set(r.kwargs) & NON_OBJECT_KWARGS]


def _related(obj, model, depth=3):
    """An instance of `model` reachable from `obj` through foreign keys, if any."""
    if isinstance(obj, model):
        return obj
    if depth == 0:
        return None
    for field in obj._meta.concrete_fields:
        if field.is_relation and field.many_to_one:
            target = getattr(obj, field.name)
            found = target is not None and _related(target, model, depth - 1)
            if found:
                return found
    return None


def url_for_org(route, org, make):
    """The route's URL filled with ids of `org`'s rows that belong together.

    The last argument's object is made first; earlier arguments (its parents, as in
    /surveys/<survey_id>/questions/<question_id>/) are taken from its foreign keys.
    """
    models = route.model_for_kwarg
    kwargs = {}
    last_kwarg = route.kwargs[-1]
    leaf = make(models[last_kwarg], org)
    for kwarg, model in models.items():
        obj = _related(leaf, model) or make(model, org)
        kwargs[kwarg] = obj.pk
    return reverse(route.name, kwargs=kwargs)

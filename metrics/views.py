from django.shortcuts import render

from cxplatform.permissions import member_required
from surveys.models import SurveyType

from . import charts, definitions, selectors
from .forms import ScopeForm

KPI_ORDER = ["nps", "csat", "ces", "csi", "responses", "response_rate"]


@member_required
def dashboard(request):
    form = ScopeForm(request.GET, organization=request.organization)
    context = {"form": form}
    if form.is_valid():
        scope = form.scope()
        data = selectors.dashboard(scope, SurveyType.NPS)
        metrics = data["summary"]["metrics"]
        context.update({
            "scope": scope,
            "kpis": [
                {"name": name, "title": definitions.EXPLANATIONS[name][0], "help": definitions.EXPLANATIONS[name][1],
                 **metrics[name]}
                for name in KPI_ORDER
            ],
            "trend_json": charts.trend_chart(data["trend"], "NPS"),
            "distribution_json": charts.distribution_chart(data["distribution"]),
            "heatmap_json": charts.heatmap_chart(data["heatmap"]),
            "by_touchpoint": data["by_touchpoint"],
        })
    template = "metrics/dashboard.htmx.html" if request.htmx else "metrics/dashboard.html"
    return render(request, template, context, status=200 if form.is_valid() else 400)

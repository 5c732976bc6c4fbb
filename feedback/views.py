from django.shortcuts import render

from cxplatform.permissions import member_required


@member_required
def index(request):
    return render(request, "feedback/index.html")

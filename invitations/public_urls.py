from django.urls import path

from .views import public

app_name = "invite"

urlpatterns = [
    path("u/<str:token>/", public.unsubscribe, name="unsubscribe"),
]

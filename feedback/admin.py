from django.contrib import admin

from .models import Team


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "lead"]
    list_filter = ["organization"]
    filter_horizontal = ["members", "touchpoints"]

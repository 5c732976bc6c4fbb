from django.contrib import admin

from .models import RoutingRule, Tag, Team


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "lead"]
    list_filter = ["organization"]
    filter_horizontal = ["members", "touchpoints"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "position", "active", "team", "assign", "stop"]
    list_filter = ["organization", "active"]
    filter_horizontal = ["add_tags"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "organization"]
    list_filter = ["organization"]

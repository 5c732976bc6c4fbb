from django.contrib import admin

from .models import ActionItem, Goal


@admin.register(Goal)
class GoalAdmin(admin.ModelAdmin):
    list_display = ["title", "organization", "kpi", "baseline", "target", "deadline", "owner"]
    list_filter = ["organization", "kpi"]


@admin.register(ActionItem)
class ActionItemAdmin(admin.ModelAdmin):
    list_display = ["title", "organization", "goal", "owner", "due_date", "status"]
    list_filter = ["organization", "status"]

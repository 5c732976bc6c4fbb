from django.contrib import admin

from .models import WebhookCall, WebhookSubscription


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ("url", "organization", "active", "failing_since", "disabled_at")
    list_filter = ("active",)
    exclude = ("secret",)  # signs every call; shown once on the settings page only


@admin.register(WebhookCall)
class WebhookCallAdmin(admin.ModelAdmin):
    list_display = ("delivery_id", "event", "subscription", "status", "attempts", "status_code", "created_at")
    list_filter = ("status", "event")
    readonly_fields = ("delivery_id",)

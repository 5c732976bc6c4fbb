from django.contrib import admin

from . import events
from .models import Customer, EventDelivery, Membership, Organization, OutboxEvent


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "default_language", "created_at"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role"]
    list_filter = ["organization", "role"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "external_id", "organization"]
    list_filter = ["organization"]
    search_fields = ["name", "email", "external_id"]


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "version", "created_at", "delivered_at"]
    list_filter = ["status", "name"]
    readonly_fields = [f.name for f in OutboxEvent._meta.fields]


@admin.register(EventDelivery)
class EventDeliveryAdmin(admin.ModelAdmin):
    """Where an operator sees dead and waiting deliveries and sends them again."""

    list_display = ["subscriber", "event", "status", "attempts", "next_attempt_at", "last_error_line"]
    list_filter = ["status", "subscriber"]
    readonly_fields = [f.name for f in EventDelivery._meta.fields]
    list_select_related = ["event"]
    actions = ["retry"]

    @admin.display(description="last error")
    def last_error_line(self, delivery):
        return delivery.last_error.splitlines()[0][:120] if delivery.last_error else ""

    @admin.action(description="Retry the selected deliveries now")
    def retry(self, request, queryset):
        count = events.retry(queryset.values_list("pk", flat=True))
        self.message_user(request, f"{count} deliveries will be tried again.")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

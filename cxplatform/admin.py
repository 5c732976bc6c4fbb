from django.contrib import admin

from . import events
from .models import AuditEntry, Customer, EventDelivery, Membership, Organization, OutboxEvent


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


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the log is append-only for operators too (entries without an organization, such
    as sign-in failures of unknown names, are seen only here)."""

    list_display = ["created_at", "organization", "actor_label", "action", "target_label", "ip_address"]
    list_filter = ["action"]
    search_fields = ["actor_label", "target_label"]
    show_full_result_count = False  # never COUNT(*) over millions of rows
    readonly_fields = [f.name for f in AuditEntry._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

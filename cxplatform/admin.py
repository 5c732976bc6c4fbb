from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import events
from .models import AuditEntry, Customer, EventDelivery, Membership, Organization, OutboxEvent
from .tokens import services as tokens
from .tokens.models import ApiToken


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


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Every organization's API tokens, for the operator: read-only (a token is made by its owner,
    its secret shown once and never stored), with one action, revoking (a leaked token)."""

    list_display = ["name", "prefix", "user", "organization", "scope", "status", "created_at", "last_used_at",
                    "expires_at", "revoked_at"]
    list_filter = ["scope", "organization"]
    search_fields = ["name", "prefix", "user__username", "user__email"]
    list_select_related = ["user", "organization"]
    readonly_fields = [f.name for f in ApiToken._meta.fields if f.name != "hash"]
    exclude = ["hash"]
    actions = ["revoke"]

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        count = tokens.revoke_as_operator(tokens=queryset.select_related("organization", "user"),
                                          operator=request.user, request=request)
        self.message_user(request, ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", count)
                          % {"count": count}, messages.SUCCESS)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

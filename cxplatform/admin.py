from django.contrib import admin

from .models import Customer, Membership, Organization, OutboxEvent


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
    list_display = ["name", "status", "attempts", "created_at", "delivered_at"]
    list_filter = ["status", "name"]
    readonly_fields = [f.name for f in OutboxEvent._meta.fields]

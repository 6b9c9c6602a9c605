"""Admin for users and master data. Casework models are deliberately not registered."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .models import Organisation, Region, User


@admin.register(User)
class UserAdmin(BaseUserAdmin, SimpleHistoryAdmin):
    list_display = ("username", "display_name", "organisation", "profession", "is_active")
    list_filter = ("organisation__kind", "groups", "is_active")
    search_fields = ("username", "display_name")
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("所属・職種"), {"fields": ("organisation", "profession", "display_name")}),
    )


@admin.register(Organisation)
class OrganisationAdmin(SimpleHistoryAdmin):
    list_display = (
        "name",
        "kind",
        "local_government_code",
        "region",
        "consultation_window_established_on",
        "platform_established_on",
    )
    list_filter = ("kind", "region")
    search_fields = ("name", "local_government_code")


@admin.register(Region)
class RegionAdmin(SimpleHistoryAdmin):
    list_display = ("name", "sort_order")

"""Programmes are organisation master data an administrator sets up; no case content here."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from accounts.admin_audit import AuditedAdminMixin

from .models import Programme


@admin.register(Programme)
class ProgrammeAdmin(AuditedAdminMixin, SimpleHistoryAdmin):
    list_display = ("name", "kind", "organiser", "host_municipality", "region", "is_active")
    list_filter = ("kind", "region", "is_active")

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from totalcap.accounts.models import ApiToken, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "full_name", "role", "jurisdiction", "enterprise", "is_active")
    list_filter = ("role", "is_active")
    search_fields = ("username", "full_name", "phone")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (
            "TotalCap",
            {
                "fields": (
                    "full_name",
                    "phone",
                    "role",
                    "jurisdiction",
                    "enterprise",
                    "served_enterprises",
                    "logger",
                )
            },
        ),
    )
    autocomplete_fields = ("jurisdiction", "enterprise", "logger")
    filter_horizontal = ("served_enterprises", "groups", "user_permissions")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "read_only", "expires_at", "revoked_at", "last_used_at")
    readonly_fields = ("prefix", "key_hash", "last_used_at", "last_used_ip", "revoked_at")
    search_fields = ("name", "prefix", "user__username")

    def has_add_permission(self, request):
        return False  # tokens are issued with `totalcap tokens issue` so the key can be shown once

"""Django admin for reference data (and everything else, for system administrators)."""

from django.contrib import admin

from totalcap.registry.models import (
    Camera,
    DataLogger,
    EmissionStandard,
    Enterprise,
    EnterpriseContact,
    Industry,
    Jurisdiction,
    Outlet,
    Pollutant,
    StandardLimit,
    Valve,
)


@admin.register(Jurisdiction)
class JurisdictionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")
    readonly_fields = ("path",)


@admin.register(Industry)
class IndustryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "parent")
    search_fields = ("code", "name")


@admin.register(Pollutant)
class PollutantAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "medium",
        "concentration_unit",
        "amount_unit",
        "legacy_code",
        "is_total_control",
    )
    list_filter = ("medium", "is_total_control")
    search_fields = ("code", "name", "legacy_code")


class StandardLimitInline(admin.TabularInline):
    model = StandardLimit
    extra = 0
    min_num = 1
    validate_min = True


@admin.register(EmissionStandard)
class EmissionStandardAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "medium", "region")
    list_filter = ("level", "medium")
    search_fields = ("code", "name")
    inlines = [StandardLimitInline]
    filter_horizontal = ("industries",)


@admin.register(Enterprise)
class EnterpriseAdmin(admin.ModelAdmin):
    list_display = ("name", "credit_code", "jurisdiction", "industry", "management_class")
    list_filter = ("management_class", "status")
    search_fields = ("name", "credit_code")
    autocomplete_fields = ("jurisdiction", "industry")


admin.site.register(EnterpriseContact, search_fields=("name", "phone"))
admin.site.register(Outlet, search_fields=("code", "name", "enterprise__name"))
admin.site.register(DataLogger, search_fields=("mn", "name"), exclude=("password",))
admin.site.register(Valve)
admin.site.register(Camera)

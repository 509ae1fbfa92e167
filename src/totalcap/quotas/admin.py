from django.contrib import admin

from totalcap.quotas.models import QuotaPolicy, RegionTotal, SpecialPeriod


@admin.register(QuotaPolicy)
class QuotaPolicyAdmin(admin.ModelAdmin):
    list_display = ("__str__", "close_grace_minutes", "carry_over", "penalty_factor", "auto_reopen")


admin.site.register(RegionTotal)
admin.site.register(SpecialPeriod)

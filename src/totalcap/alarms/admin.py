from django.contrib import admin

from totalcap.alarms.models import Alarm, Delivery, NotificationChannel


@admin.register(NotificationChannel)
class NotificationChannelAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "enabled", "min_severity", "jurisdiction")
    list_filter = ("kind", "enabled")


@admin.register(Alarm)
class AlarmAdmin(admin.ModelAdmin):
    list_display = ("raised_at", "type", "severity", "title", "status", "occurrences")
    list_filter = ("status", "severity", "type")
    search_fields = ("title", "source")
    readonly_fields = [f.name for f in Alarm._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "channel", "address", "status", "attempts")
    list_filter = ("status", "channel")
    readonly_fields = [f.name for f in Delivery._meta.fields]

from django.contrib import admin

from .models import DailyStats, Task


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ("title", "done", "created_at", "completed_at")
    list_filter = ("done",)


@admin.register(DailyStats)
class DailyStatsAdmin(admin.ModelAdmin):
    list_display = ("date", "created", "completed", "computed_at")

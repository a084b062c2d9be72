from django.db import models
from django.utils import timezone


class Task(models.Model):
    """A to-do item: the data the ORM view lists and the daily statistics count."""

    title = models.CharField(max_length=255)
    done = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.title


class DailyStats(models.Model):
    """How many tasks were created and completed on one local calendar day."""

    date = models.DateField(unique=True)
    created = models.PositiveIntegerField(default=0)
    completed = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "daily stats"

    def __str__(self) -> str:
        return f"{self.date}: {self.created} created, {self.completed} completed"

from django.db import models


class OutboxMessage(models.Model):
    """A config-topic record written in the same transaction as the change it announces; the relay publishes it."""

    created_at = models.DateTimeField(auto_now_add=True)
    topic = models.CharField(max_length=255)
    key = models.CharField(max_length=255, db_index=True)
    value = models.BinaryField(null=True, blank=True, help_text="None is a tombstone: the key is deleted.")
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        # The id is the publishing order: rows go out strictly in it, so each key's records stay in order.
        ordering = ["id"]

    def __str__(self) -> str:
        state = "published" if self.published_at else "pending"
        return f"#{self.pk} {self.key} ({state})"


class OutboxLease(models.Model):
    """Which relay may publish right now; taken with a conditional UPDATE, so it works on SQLite and PostgreSQL."""

    name = models.CharField(max_length=32, primary_key=True)
    holder = models.CharField(max_length=128, blank=True)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name}: {self.holder or '-'} until {self.expires_at}"

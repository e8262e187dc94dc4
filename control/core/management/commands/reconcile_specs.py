from django.core.management.base import BaseCommand

from control.outbox.relay import outbox_relay_drain
from control.pipelines.services import pipeline_specs_republish
from control.streams.services import source_specs_republish


class Command(BaseCommand):
    help = "Queue every stream's and pipeline's current spec again and publish them (via the outbox)."

    def handle(self, *args: object, **options: object) -> None:
        queued = source_specs_republish() + pipeline_specs_republish()
        result = outbox_relay_drain()
        self.stdout.write(f"queued {queued} specs; published {result.published}; pending {result.pending}")
        if result.error:
            self.stderr.write(f"Kafka did not take everything yet ({result.error}); the outbox relay will retry")

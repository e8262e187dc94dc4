from django.core.management.base import BaseCommand

from control.core.kafka import config_topic_spec, topics_ensure


class Command(BaseCommand):
    help = "Create the platform's internal Kafka topics (idempotent)."

    def handle(self, *args: object, **options: object) -> None:
        spec = config_topic_spec()
        topics_ensure([spec])
        self.stdout.write(f"config topic ready: {spec.name}")

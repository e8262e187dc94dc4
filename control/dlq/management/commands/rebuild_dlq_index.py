from typing import Any

from django.core.management.base import BaseCommand

from control.dlq.services import dlq_index_rebuild
from control.streams.models import Stream


class Command(BaseCommand):
    help = "Rebuild the DLQ index from the DLQ topics (all streams, or --workspace/--stream)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--workspace", help="a workspace slug")
        parser.add_argument("--stream", help="a stream name (with --workspace)")

    def handle(self, *args: object, **options: Any) -> None:
        streams = Stream.objects.select_related("workspace").order_by("workspace__slug", "name")
        if options["workspace"]:
            streams = streams.filter(workspace__slug=options["workspace"])
        if options["stream"]:
            streams = streams.filter(name=options["stream"])
        for stream in streams:
            self.stdout.write(f"{stream}: {dlq_index_rebuild(stream=stream)} records indexed")

"""Create the admin user and the demo workspace with one working pipeline and an ingest key; safe to run again."""

import os
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from control.core.kafka import config_topic_spec, topics_ensure
from control.outbox.relay import outbox_relay_drain
from control.pipelines.models import Pipeline
from control.pipelines.services import pipeline_quickstart
from control.streams.models import IngestKey
from control.streams.services import ingest_key_create, stream_get_or_create
from control.workspaces.services import workspace_get_or_create

DEMO_MAPPING = """{
  "order_id": id,
  "customer": customer.name,
  "items": $count(items),
  "total": $sum(items.(price * quantity)),
  "currency": $uppercase(currency)
}"""
DEMO_KEY_NAME = "demo"


class Command(BaseCommand):
    help = "Create the admin user and a demo workspace with one pipeline and an ingest key (idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--receiver-url", default="http://127.0.0.1:8002/demo/orders")
        parser.add_argument("--admin-username", default="admin")
        parser.add_argument(
            "--key-file",
            type=Path,
            default=settings.BASE_DIR / ".local" / "demo-ingest-key",
            help="where the demo ingest key is written (mode 600) so `make up` can print a working curl line",
        )

    def handle(self, *args: object, **options: Any) -> None:
        topics_ensure([config_topic_spec()])
        self._admin(options["admin_username"])
        workspace, _ = workspace_get_or_create(slug="demo", name="Demo")
        orders, _ = stream_get_or_create(workspace=workspace, name="orders")
        self._ingest_key(workspace, orders, options["key_file"])
        if not Pipeline.objects.filter(workspace=workspace, name="orders-to-receiver").exists():
            pipeline_quickstart(
                workspace=workspace,
                name="orders-to-receiver",
                source=orders,
                target=orders,
                expression=DEMO_MAPPING,
                destination_url=options["receiver_url"],
            )
            self.stdout.write("demo pipeline created and activated: demo/orders-to-receiver")
        else:
            self.stdout.write("demo pipeline exists: demo/orders-to-receiver")
        # Publish now, so the worker starting next finds the specs without waiting for the relay.
        result = outbox_relay_drain()
        if result.error:
            self.stderr.write(f"specs not published yet ({result.error}); the outbox relay will publish them")

    def _ingest_key(self, workspace: Any, stream: Any, key_file: Path) -> None:
        if IngestKey.objects.filter(workspace=workspace, name=DEMO_KEY_NAME, revoked_at__isnull=True).exists():
            self.stdout.write(f"demo ingest key exists (printed when it was created; saved in {key_file})")
            return
        _, plain = ingest_key_create(workspace=workspace, stream=stream, name=DEMO_KEY_NAME)
        key_file.parent.mkdir(parents=True, exist_ok=True)
        # Created with mode 600 from the start: the key is never readable by others, not even briefly.
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(plain + "\n")
        os.chmod(key_file, 0o600)
        self.stdout.write(self.style.SUCCESS(f"demo ingest key created: {plain}  (shown once; saved in {key_file})"))

    def _admin(self, username: str) -> None:
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            self.stdout.write(f"admin user {username!r} exists (its password was printed when it was created)")
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email="", password=password)
        self.stdout.write(self.style.SUCCESS(f"admin user created: {username} / {password}  (shown once)"))

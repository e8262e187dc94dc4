"""Create the admin user and the demo workspace with one working pipeline; safe to run again."""

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from control.core.kafka import config_topic_spec, topics_ensure
from control.pipelines.models import Pipeline
from control.pipelines.services import pipeline_create, stream_get_or_create
from control.workspaces.services import workspace_get_or_create

DEMO_MAPPING = """{
  "order_id": id,
  "customer": customer.name,
  "items": $count(items),
  "total": $sum(items.(price * quantity)),
  "currency": $uppercase(currency)
}"""


class Command(BaseCommand):
    help = "Create the admin user and a demo workspace with one pipeline (idempotent)."

    def add_arguments(self, parser) -> None:  # type: ignore[no-untyped-def]
        parser.add_argument("--receiver-url", default="http://127.0.0.1:8002/demo/orders")
        parser.add_argument("--admin-username", default="admin")

    def handle(self, *args: object, **options: str) -> None:
        topics_ensure([config_topic_spec()])
        self._admin(options["admin_username"])
        workspace, _ = workspace_get_or_create(slug="demo", name="Demo")
        orders, _ = stream_get_or_create(workspace=workspace, name="orders")
        if not Pipeline.objects.filter(workspace=workspace, name="orders-to-receiver").exists():
            pipeline_create(
                workspace=workspace,
                name="orders-to-receiver",
                source=orders,
                target=orders,
                mapping=DEMO_MAPPING,
                destination_url=options["receiver_url"],
            )
            self.stdout.write("demo pipeline created: demo/orders-to-receiver")
        else:
            self.stdout.write("demo pipeline exists: demo/orders-to-receiver")

    def _admin(self, username: str) -> None:
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            self.stdout.write(f"admin user {username!r} exists (its password was printed when it was created)")
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email="", password=password)
        self.stdout.write(self.style.SUCCESS(f"admin user created: {username} / {password}  (shown once)"))

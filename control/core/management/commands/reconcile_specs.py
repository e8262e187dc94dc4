from django.core.management.base import BaseCommand

from control.pipelines.services import specs_republish


class Command(BaseCommand):
    help = "Publish every stream's and pipeline's current spec to the config topic again."

    def handle(self, *args: object, **options: object) -> None:
        self.stdout.write(f"published {specs_republish()} specs")

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from control.destinations.services import destination_create
from control.streams.services import stream_create
from tests.control.conftest import World


@pytest.fixture
def api_world(world: World) -> World:
    """The world plus objects nobody depends on, so delete endpoints can succeed."""
    world.spare_stream = stream_create(workspace=world.workspace, name="spare")  # type: ignore[attr-defined]
    world.spare_destination = destination_create(workspace=world.workspace, name="spare", url="https://example.net/h")  # type: ignore[attr-defined]
    return world


@pytest.fixture
def client_for():  # type: ignore[no-untyped-def]
    def make(user: Any | None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make

"""h2lite.aio re-exports the public names of its server and client modules."""

from __future__ import annotations

import h2lite.aio
from h2lite.aio import client, server


def test_every_exported_name_is_the_modules_own():
    for name in h2lite.aio.__all__:
        owner = server if name in server.__all__ else client
        assert getattr(h2lite.aio, name) is getattr(owner, name)


def test_the_server_api_is_exported_whole():
    assert set(server.__all__) <= set(h2lite.aio.__all__)


def test_the_client_api_is_exported_except_tuning_constants():
    missing = set(client.__all__) - set(h2lite.aio.__all__)
    assert all(name.isupper() for name in missing)

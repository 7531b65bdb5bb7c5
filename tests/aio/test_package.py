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


def test_the_readme_asyncio_example_runs(capsys):
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    blocks = re.findall(r"^```python\n(.*?)^```\n", readme, re.M | re.S)
    (example,) = [block for block in blocks if "h2lite.aio.serve" in block]
    exec(compile(example, "README.md", "exec"), {"__name__": "readme"})
    assert capsys.readouterr().out == "200 hello over HTTP/2\n"

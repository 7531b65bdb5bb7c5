from __future__ import annotations

import h2lite


def pytest_report_header(config):  # type: ignore[no-untyped-def]
    return f"h2lite {h2lite.__version__}, backend: {h2lite.BACKEND}"

"""The two libraries as the workloads see them, and the in-memory pump.

Each workload exists once and is run against a *library adapter*
(:class:`H2Lib` for the ``h2`` package, :class:`H2LiteLib` for h2lite with a
chosen backend), so both libraries do exactly the same application work on
exactly the same inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

DEFAULT_WINDOW = 65_535


class WorkloadError(AssertionError):
    """A workload did not complete correctly; its timing must not be used."""


class LibraryUnavailable(RuntimeError):
    """The library under test cannot be imported, or the backend asked for is not built."""


def check(condition: bool, message: str) -> None:
    """Raise :class:`WorkloadError` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise WorkloadError(message)


class Lib:
    """What a workload needs to know about one library.

    ``manual_ack`` is True when the application has to hand consumed DATA back
    to the library (``acknowledge_received_data``); h2lite replenishes inbound
    windows itself by default.
    """

    name: str = "?"
    manual_ack: bool = False
    RequestReceived: type[Any]
    ResponseReceived: type[Any]
    DataReceived: type[Any]
    StreamEnded: type[Any]
    WindowUpdated: type[Any]

    def new_connection(
        self,
        client_side: bool,
        initial_window_size: int | None = None,
        connection_window_size: int | None = None,
    ) -> Any:
        """A connection with ``initiate_connection()`` already called."""
        raise NotImplementedError


class H2Lib(Lib):
    """The ``h2`` package (h2.connection.H2Connection)."""

    name = "h2"
    manual_ack = True

    def __init__(self) -> None:
        try:
            import h2.config
            import h2.connection
            import h2.events
            import h2.settings
        except ImportError as exc:
            raise LibraryUnavailable(f"the h2 package is not installed ({exc})") from exc

        self.version = str(getattr(h2, "__version__", "?"))
        self._config = h2.config.H2Configuration
        self._connection = h2.connection.H2Connection
        self._settings = h2.settings
        self.RequestReceived = h2.events.RequestReceived
        self.ResponseReceived = h2.events.ResponseReceived
        self.DataReceived = h2.events.DataReceived
        self.StreamEnded = h2.events.StreamEnded
        self.WindowUpdated = h2.events.WindowUpdated

    def new_connection(
        self,
        client_side: bool,
        initial_window_size: int | None = None,
        connection_window_size: int | None = None,
    ) -> Any:
        conn = self._connection(self._config(client_side=client_side, header_encoding=None))
        if initial_window_size is not None and initial_window_size != DEFAULT_WINDOW:
            # Same values h2 advertises by default, plus the window; all go out in
            # the single SETTINGS frame written by initiate_connection().
            codes = self._settings.SettingCodes
            conn.local_settings = self._settings.Settings(
                client=client_side,
                initial_values={
                    codes.MAX_CONCURRENT_STREAMS: 100,
                    codes.MAX_HEADER_LIST_SIZE: conn.DEFAULT_MAX_HEADER_LIST_SIZE,
                    codes.INITIAL_WINDOW_SIZE: initial_window_size,
                },
            )
        conn.initiate_connection()
        if connection_window_size is not None and connection_window_size > DEFAULT_WINDOW:
            conn.increment_flow_control_window(connection_window_size - DEFAULT_WINDOW)
        return conn


class H2LiteLib(Lib):
    """h2lite with one backend (``"python"`` or ``"c"``, see ``h2lite._backend``).

    The backend is made live (``_backend.use``) each time a connection is
    made, before any timing starts, so two adapters with different backends
    can take turns in one process.
    """

    manual_ack = False

    def __init__(self, backend: str | None = None) -> None:
        from .. import Config, Connection, _backend, events

        if backend is None:
            backend = _backend.current()
        if backend not in _backend.AVAILABLE:
            raise LibraryUnavailable(
                f"h2lite backend {backend!r} is not available here (have {', '.join(_backend.AVAILABLE)})"
            )
        self._use = _backend.use
        self.backend = backend
        self.name = f"h2lite ({backend})"
        self._connection = Connection
        self._config = Config
        self.RequestReceived = events.RequestReceived
        self.ResponseReceived = events.ResponseReceived
        self.DataReceived = events.DataReceived
        self.StreamEnded = events.StreamEnded
        self.WindowUpdated = events.WindowUpdated

    def new_connection(
        self,
        client_side: bool,
        initial_window_size: int | None = None,
        connection_window_size: int | None = None,
    ) -> Any:
        self._use(self.backend)
        kwargs: dict[str, Any] = {"client_side": client_side}
        if initial_window_size is not None:
            kwargs["initial_window_size"] = initial_window_size
        if connection_window_size is not None:
            kwargs["connection_window_size"] = connection_window_size
        conn = self._connection(self._config(**kwargs))
        conn.initiate_connection()
        return conn


def load_h2() -> H2Lib:
    """The ``h2`` adapter; :class:`LibraryUnavailable` without the package."""
    return H2Lib()


def load_h2lite(backend: str | None = None) -> H2LiteLib:
    """An h2lite adapter for ``backend`` (default: the live one)."""
    return H2LiteLib(backend)


# --------------------------------------------------------------------------- pumping

EventHandler = Callable[[list[Any]], None]


def pump(client: Any, server: Any, on_server: EventHandler, on_client: EventHandler) -> None:
    """Move bytes both ways until neither side has anything to send."""
    while True:
        out = client.data_to_send()
        if out:
            on_server(server.receive_data(out))
        back = server.data_to_send()
        if back:
            on_client(client.receive_data(back))
        elif not out:
            return


def _ignore(events: list[Any]) -> None:
    return None


def new_pair(
    lib: Lib,
    client_window: int | None = None,
    client_connection_window: int | None = None,
    server_window: int | None = None,
    server_connection_window: int | None = None,
) -> tuple[Any, Any]:
    """A client and a server that have exchanged prefaces and SETTINGS."""
    client = lib.new_connection(True, client_window, client_connection_window)
    server = lib.new_connection(False, server_window, server_connection_window)
    pump(client, server, _ignore, _ignore)
    return client, server

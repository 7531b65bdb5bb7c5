"""SETTINGS: ours (pending until acknowledged) and the peer's (RFC 9113 §6.5)."""

from __future__ import annotations

from collections import deque
from typing import Mapping

from .codes import DEFAULT_MAX_FRAME_SIZE, DEFAULT_WINDOW, MAX_MAX_FRAME_SIZE, MAX_WINDOW, ErrorCode, Setting, to_enum
from .events import ChangedSetting

#: RFC 9113 §6.5.2 initial values, in force until a SETTINGS frame says otherwise.
DEFAULTS: dict[int, int] = {
    Setting.HEADER_TABLE_SIZE: 4096,
    Setting.ENABLE_PUSH: 1,
    Setting.MAX_CONCURRENT_STREAMS: 2**32 - 1,
    Setting.INITIAL_WINDOW_SIZE: DEFAULT_WINDOW,
    Setting.MAX_FRAME_SIZE: DEFAULT_MAX_FRAME_SIZE,
    Setting.MAX_HEADER_LIST_SIZE: 2**32 - 1,
    Setting.ENABLE_CONNECT_PROTOCOL: 0,
    Setting.NO_RFC7540_PRIORITIES: 0,
}


class SettingsError(Exception):
    """An invalid setting value; ``error_code`` is the RFC's code."""

    def __init__(self, message: str, error_code: ErrorCode) -> None:
        super().__init__(message)
        self.error_code = error_code


def check_value(setting: int, value: int) -> None:
    """Raise SettingsError for a value the RFC forbids."""
    if setting == Setting.ENABLE_PUSH or setting == Setting.ENABLE_CONNECT_PROTOCOL or setting == Setting.NO_RFC7540_PRIORITIES:
        # RFC 9113 §6.5.2, RFC 8441 §3, RFC 9218 §2.1: only 0 or 1.
        if value not in (0, 1):
            raise SettingsError(f"setting {setting} must be 0 or 1, got {value}", ErrorCode.PROTOCOL_ERROR)
    elif setting == Setting.INITIAL_WINDOW_SIZE:
        # RFC 9113 §6.5.2: above 2^31-1 is a FLOW_CONTROL_ERROR.
        if value > MAX_WINDOW:
            raise SettingsError(f"initial window size {value} above 2^31-1", ErrorCode.FLOW_CONTROL_ERROR)
    elif setting == Setting.MAX_FRAME_SIZE:
        # RFC 9113 §6.5.2: between 2^14 and 2^24-1, else PROTOCOL_ERROR.
        if not DEFAULT_MAX_FRAME_SIZE <= value <= MAX_MAX_FRAME_SIZE:
            raise SettingsError(f"max frame size {value} out of range", ErrorCode.PROTOCOL_ERROR)


class Settings:
    """A view of setting values with attribute access for the common ones."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[int, int] | None = None) -> None:
        self._values: dict[int, int] = dict(DEFAULTS)
        if values:
            self._values.update(values)

    def __getitem__(self, setting: int) -> int:
        return self._values[setting]

    def get(self, setting: int, default: int | None = None) -> int | None:
        return self._values.get(setting, default)

    def __contains__(self, setting: object) -> bool:
        return setting in self._values

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def items(self):  # type: ignore[no-untyped-def]
        return self._values.items()

    def apply(
        self, changes: Mapping[int, int] | list[tuple[int, int]], keep_unknown: bool = True
    ) -> dict[Setting | int, ChangedSetting]:
        """Apply values; return what changed (every listed setting is reported).

        With ``keep_unknown=False`` identifiers outside :data:`DEFAULTS` are
        reported but not stored: RFC 9113 §6.5.2 says to ignore them, and a
        peer could otherwise make us remember up to 65,536 of them.
        """
        changed: dict[Setting | int, ChangedSetting] = {}
        items = changes.items() if isinstance(changes, Mapping) else changes
        for setting, value in items:
            key = to_enum(Setting, setting)
            changed[key] = ChangedSetting(setting=key, original_value=self._values.get(setting), new_value=value)
            if keep_unknown or setting in DEFAULTS:
                self._values[setting] = value
        return changed

    @property
    def header_table_size(self) -> int:
        return self._values[Setting.HEADER_TABLE_SIZE]

    @property
    def enable_push(self) -> int:
        return self._values[Setting.ENABLE_PUSH]

    @property
    def max_concurrent_streams(self) -> int:
        return self._values[Setting.MAX_CONCURRENT_STREAMS]

    @property
    def initial_window_size(self) -> int:
        return self._values[Setting.INITIAL_WINDOW_SIZE]

    @property
    def max_frame_size(self) -> int:
        return self._values[Setting.MAX_FRAME_SIZE]

    @property
    def max_header_list_size(self) -> int:
        return self._values[Setting.MAX_HEADER_LIST_SIZE]

    @property
    def enable_connect_protocol(self) -> int:
        return self._values[Setting.ENABLE_CONNECT_PROTOCOL]

    def __repr__(self) -> str:
        body = ", ".join(f"{to_enum(Setting, k)!s}={v}" for k, v in self._values.items())
        return f"Settings({body})"


class LocalSettings(Settings):
    """Our settings: sent values wait in a queue until the peer acknowledges them."""

    __slots__ = ("pending",)

    def __init__(self) -> None:
        super().__init__()
        self.pending: deque[dict[int, int]] = deque()

    def propose(self, values: Mapping[int, int]) -> None:
        self.pending.append(dict(values))

    def acknowledge(self) -> dict[Setting | int, ChangedSetting] | None:
        """Put the oldest sent SETTINGS in force; None when none was outstanding."""
        if not self.pending:
            return None
        return self.apply(self.pending.popleft())

    def pending_value(self, setting: int) -> int:
        """The value in force once everything sent is acknowledged."""
        for values in reversed(self.pending):
            if setting in values:
                return values[setting]
        return self._values[setting]

"""asyncio client and server built only on the public :class:`h2lite.Connection` API."""

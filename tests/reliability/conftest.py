"""The ingest tests' loopback venue server and fast-retry settings, shared here."""

from tests.ingest.conftest import fake, settings

__all__ = ["fake", "settings"]

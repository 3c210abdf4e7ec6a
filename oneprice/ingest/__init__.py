"""Venue clients and parsers. See ``oneprice.ingest.base`` for the interface and how to add a venue."""

from oneprice.ingest.base import VENUES, Capability, Page, VenueClient, make_client, register_venue

__all__ = ["VENUES", "Capability", "Page", "VenueClient", "make_client", "register_venue"]

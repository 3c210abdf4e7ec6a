"""Venue clients, parsers and the bundled snapshot. Pagination, rate limits, retries and unit quirks live
here and nowhere else.

Layout: ``base`` (the ``VenueClient`` interface, ``Page``, the registry, ``make_client``), ``http`` (the one
HTTP layer: timeouts, token-bucket rate limit per venue, retries with backoff honouring Retry-After, error
mapping), ``parsers/<venue>`` (pure functions from venue JSON to ``oneprice.core`` types, raising
``ParseError(reason)`` per bad record), ``venues/<venue>`` (the clients), ``store`` (pages to database rows
through bulk idempotent upserts) and ``snapshot/`` (the bundled real data the ``replay`` venue serves).

One way to add a venue: write ``parsers/<name>.py`` and ``venues/<name>.py`` (subclass ``VenueClient``,
declare ``name``, ``venue`` and ``capabilities``, use ``HttpClient`` and decorate with ``@register_venue``),
import it in ``venues/__init__.py``, and add loopback tests replaying recorded payloads.
"""

from oneprice.ingest.base import VENUES, Capability, Page, VenueClient, make_client, register_venue

__all__ = ["VENUES", "Capability", "Page", "VenueClient", "make_client", "register_venue"]

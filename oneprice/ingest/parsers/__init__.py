"""Pure functions from each venue's JSON to ``oneprice.core`` types.

Every parser raises ``ParseError(reason)`` for a record it cannot use; clients skip that record and count
the reason. Nothing here does I/O.
"""

"""Payload parsing: every shape the platform and other tools produce, turned into ``ParsedItem``s.

The public names are re-exported by :mod:`scrapers.parse`, which is where the
other stages import them from.
"""

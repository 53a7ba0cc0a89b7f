"""Curation: probe media files with PyAV, judge videos by rules with every reason kept, draw the dataset report.

Modules: ``probe`` (one file), ``distributor`` (many files on processes), ``rules`` (TOML, hashed),
``verdicts`` (rules over a table of facts), ``figures`` and ``report`` (the HTML page). No database here:
``db.media`` reads and writes the catalog, ``curate`` wires the two.
"""

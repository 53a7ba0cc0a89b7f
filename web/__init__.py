"""The local web page (``curate serve``): the catalog, its videos and duplicates, snapshots, runs, and asking a model.

A second front end beside ``curate``: it reads the stages' results (``db``,
``curation``, ``labeling``, ``modeling``) and imports nothing from ``curate``;
nothing imports it but the ``serve`` command.
"""

"""The platform's clients behind the ``Source`` protocol: tiktokapi, playwright, selenium, ytdlp.

Each module imports its client library inside the class, so that importing a
backend costs nothing until a crawl starts it; ``curate`` picks one by name.
"""

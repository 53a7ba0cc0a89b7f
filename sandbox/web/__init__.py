"""The site's page templates and scripts (package data)."""

"""Fake outside systems served at the HTTP layer (pytest-httpserver) for tests."""

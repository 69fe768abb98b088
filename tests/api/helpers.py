"""Helpers for API tests."""


def walk(client, url: str, params: dict | None = None) -> list[dict]:
    """Follow `next` links from the first page; returns every row (or feature) seen, in order."""
    rows, response = [], client.get(url, params or {})
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        rows.extend(body.get("results", body.get("features")))
        if not body["next"]:
            return rows
        response = client.get(body["next"])

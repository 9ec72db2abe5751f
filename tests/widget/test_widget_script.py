"""GET /widget.js: the size budget of SPEC §13, caching with ETag, gzip."""

from __future__ import annotations

import gzip

from fastapi.testclient import TestClient

from widget_api.routes.pages import WIDGET_SOURCE

BUDGET_BYTES = 15 * 1024


def test_widget_js_gzipped_fits_the_15_kb_budget() -> None:
    size = len(gzip.compress(WIDGET_SOURCE.read_bytes(), 9))
    print(f"widget.js: {WIDGET_SOURCE.stat().st_size} bytes, {size} bytes gzipped")
    assert size <= BUDGET_BYTES


def test_widget_js_is_served_with_an_etag_and_revalidates_to_304(client: TestClient) -> None:
    response = client.get("/widget.js", headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.content == WIDGET_SOURCE.read_bytes()
    assert "max-age=" in response.headers["cache-control"]
    assert "public" in response.headers["cache-control"]
    etag = response.headers["etag"]
    assert etag.startswith('"')
    assert etag.endswith('"')

    again = client.get("/widget.js", headers={"Accept-Encoding": "identity", "If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"] == response.headers["cache-control"]
    # A list of tags, weak comparison and * all count as a match.
    for header in (f'"other", {etag}', f"W/{etag}", "*"):
        matched = client.get("/widget.js", headers={"Accept-Encoding": "identity", "If-None-Match": header})
        assert matched.status_code == 304, header

    stale = client.get("/widget.js", headers={"Accept-Encoding": "identity", "If-None-Match": '"older-version"'})
    assert stale.status_code == 200
    assert stale.content == response.content


def test_widget_js_is_gzipped_for_clients_that_accept_it(client: TestClient) -> None:
    plain = client.get("/widget.js", headers={"Accept-Encoding": "identity"})
    zipped = client.get("/widget.js", headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["vary"] == "Accept-Encoding"
    assert zipped.content == plain.content  # httpx decodes the body
    assert int(zipped.headers["content-length"]) <= BUDGET_BYTES
    # Each encoding is its own representation with its own validator.
    assert zipped.headers["etag"] != plain.headers["etag"]
    revalidated = client.get("/widget.js", headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["etag"]})
    assert revalidated.status_code == 304


def test_widget_js_can_be_loaded_by_pages_on_other_origins(client: TestClient) -> None:
    response = client.get("/widget.js", headers={"Origin": "https://chat.example.com"})
    assert response.headers["cross-origin-resource-policy"] == "cross-origin"
    assert response.headers["x-content-type-options"] == "nosniff"

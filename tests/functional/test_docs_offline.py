"""``/docs`` and ``/redoc`` work offline: every script, style and font they load is ours."""

from __future__ import annotations

import re
from pathlib import Path

from tests.functional.server import running_server

_ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\(['"]?([^'")]+)""")


def _references(html: str) -> list[str]:
    return [a or b for a, b in _ASSET.findall(html)]


def test_doc_pages_load_only_local_assets(tmp_path: Path) -> None:
    with running_server(tmp_path, tls=False) as server, server.client() as client:
        for page in ("/docs", "/redoc"):
            answer = client.get(page)
            assert answer.status_code == 200
            refs = _references(answer.text)
            assert refs, page
            for ref in refs:
                assert "://" not in ref and not ref.startswith("//"), f"{page} loads {ref}"
                asset = client.get(ref)
                assert asset.status_code == 200, ref
                assert len(asset.content) > 100, ref
            # The page's own script names the OpenAPI document, which must be there too.
            assert "/openapi.json" in answer.text
        assert client.get("/openapi.json").json()["info"]["title"] == "repotrack"
        bundle = client.get("/static-docs/swagger-ui-bundle.js")
        assert bundle.status_code == 200 and b"SwaggerUIBundle" in bundle.content
        assert "/static-docs/redoc.standalone.js" in client.get("/redoc").text

"""Schemathesis over the whole OpenAPI schema: no request, however odd, gets a 5xx, and
every answer is one the schema documents (status, content type, body, ``Allow``).

Issue 9 found 500s this way (37 of 11 398 requests without auth, 52 of 9 969 with):
integers beyond SQLite's 64-bit range, a 5 000-digit ``enabled``, lone surrogates.
This is the bounded form that runs with the suite: a few examples per operation
(schemathesis always adds its edge cases), once anonymous and once logged in, against
the app in process (ASGI) with a real SQLite state database and chDB store. Loads are
refused before they start (no ``[loads] allowed_roots``), so nothing is loaded.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from repotrack.config import Settings
from repotrack.passwords import hash_password
from repotrack.service import create_app
from tests.unit.store.storeutil import fresh_store_url

PASSWORD = "Passw0rd~"
BASIC = "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
EXAMPLES = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[schemathesis.Schema]:
    home = tmp_path_factory.mktemp("fuzz")
    store_url = fresh_store_url(tmp_path_factory, home / "store")
    app_settings = Settings(
        home=home,
        store={"url": store_url},
        service={
            "password_hash": hash_password(PASSWORD, iterations=1000),
            "max_failed_logins": 1_000_000,  # the fuzzer may send odd credentials
        },
    )
    app = create_app(app_settings, scheduler=False)
    # The ASGI transport enters the app's lifespan around every call; the service's
    # shutdown (runner, login pool, store) is for the end of a process, so it runs
    # once, below, instead.
    app.router.lifespan_context = _no_lifespan
    try:
        yield schemathesis.openapi.from_asgi("/openapi.json", app)
    finally:
        app.state.loads.shutdown()
        app.state.auth.close()
        app.state.store_holder.close()
        app.state.state_db.close()


@asynccontextmanager
async def _no_lifespan(_app: FastAPI) -> AsyncIterator[None]:
    yield


def _no_5xx(case: schemathesis.Case, headers: dict[str, str] | None) -> None:
    response = case.call(headers=headers)
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
    )


#: What a client generated from the schema relies on: a status the operation documents,
#: with the documented content type, headers and body. (A 422 for a request the schema
#: allows is not among them: some checks, a CPE's form, a path under ``allowed_roots``,
#: an end date before the start, are beyond what a schema can say.)
_CONFORMANCE = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _as_documented(case: schemathesis.Case, headers: dict[str, str] | None) -> None:
    case.call_and_validate(headers=headers, checks=[not_a_server_error, *_CONFORMANCE])


def _fuzz(
    api_schema: schemathesis.Schema,
    headers: dict[str, str] | None,
    check: Callable[[schemathesis.Case, dict[str, str] | None], None] = _no_5xx,
) -> int:
    """Run every operation's examples; returns how many operations were exercised.

    (Hypothesis is driven directly: schemathesis's pytest plugin does not support the
    pytest version the project uses.)
    """
    operations = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @EXAMPLES
        @given(case=operation.as_strategy())
        def run(case: schemathesis.Case) -> None:
            check(case, headers)

        run()
        operations += 1
    return operations


def test_no_5xx_anonymous(api_schema: schemathesis.Schema) -> None:
    assert _fuzz(api_schema, None) >= 15


def test_no_5xx_logged_in(api_schema: schemathesis.Schema) -> None:
    assert _fuzz(api_schema, {"Authorization": BASIC}) >= 15


def test_answers_as_documented_anonymous(api_schema: schemathesis.Schema) -> None:
    assert _fuzz(api_schema, None, _as_documented) >= 15


def test_answers_as_documented_logged_in(api_schema: schemathesis.Schema) -> None:
    assert _fuzz(api_schema, {"Authorization": BASIC}, _as_documented) >= 15

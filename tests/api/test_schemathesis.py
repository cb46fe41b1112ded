"""schemathesis in-process against the OpenAPI document: generated requests (positive and
negative), 0 server errors, 0 response schema violations, declared status codes and content types.

At least 1,000 cases run (``NRW_SITES_SCHEMATHESIS_EXAMPLES`` per operation and mode, default
25, over ~30 operations and 2 modes); the last test checks the count.
"""

from __future__ import annotations

import os
import warnings

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis import checks as st_checks  # noqa: E402
from schemathesis.specs.openapi import checks as oa_checks  # noqa: E402

from api.main import create_app  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

EXAMPLES = int(os.environ.get("NRW_SITES_SCHEMATHESIS_EXAMPLES", "25"))
COUNT = {"cases": 0, "by_status": {}}
CHECKS = [
    st_checks.not_a_server_error,
    oa_checks.status_code_conformance,
    oa_checks.content_type_conformance,
    oa_checks.response_schema_conformance,
]


@pytest.fixture(scope="module")
def api(settings):  # the session's Settings fixture: the 300-site demo
    with TestClient(create_app(settings)) as c:
        yield schemathesis.openapi.from_asgi("/api/openapi.json", c.app)


def _operations(schema):
    out = []
    for result in schema.get_all_operations():
        op = result.ok()
        if op.method.upper() == "POST" and op.path.startswith("/api/admin/"):
            continue  # publishing starts builds; tests/api/test_admin.py covers it
        out.append(op)
    return out


def _runner(op, mode, failures: list[str]):
    """A hypothesis test of one operation in one mode that records failures."""
    where = f"{op.method.upper()} {op.path} [{mode.value}]"

    @given(case=op.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate],
    )
    def run(case):
        COUNT["cases"] += 1
        try:
            response = case.call()
        except Exception as exc:  # an unhandled server exception is a server error
            failures.append(f"{where}: server error {type(exc).__name__} with {case.as_curl_command()[:200]}")
            return
        COUNT["by_status"][response.status_code] = COUNT["by_status"].get(response.status_code, 0) + 1
        try:
            case.validate_response(response, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as exc:  # collect; report all at once
            lines = [x.strip() for x in str(exc).splitlines() if x.strip()]
            failures.append(f"{where}: " + " | ".join(lines[:4])[:400])

    return run


@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda m: m.value)
def test_generated_requests(api, mode):
    failures: list[str] = []
    for op in _operations(api):
        try:
            _runner(op, mode, failures)()
        except Unsatisfiable:  # an operation without inputs has no negative cases
            assert mode is GenerationMode.NEGATIVE
    assert not failures, "\n".join(sorted(set(failures))[:40])


def test_enough_cases_ran():
    if COUNT["cases"] == 0:
        pytest.skip("run together with test_generated_requests")
    print(f"schemathesis: {COUNT['cases']} cases, by status {sorted(COUNT['by_status'].items())}")
    assert COUNT["cases"] >= 1000, COUNT
    assert not any(s >= 500 for s in COUNT["by_status"]), COUNT

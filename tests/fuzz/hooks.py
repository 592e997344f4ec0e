"""Schemathesis hooks for csphub's fuzzing pass (`.ci/run`, via SCHEMATHESIS_HOOKS).

The check is csphub's own promise, not "no GraphQL error at all": a resolver may answer
NOT_FOUND or BAD_USER_INPUT to a fuzzed input, as designed. What must never happen is a 5xx,
an INTERNAL error, or any error without a code.
"""

import json

import schemathesis
from hypothesis import strategies as st
from schemathesis.graphql import nodes

# csphub's custom scalars: dates, instants and JSON.
schemathesis.graphql.scalar("Date", st.dates().map(lambda d: nodes.String(d.isoformat())))
schemathesis.graphql.scalar(
    "DateTime", st.datetimes().map(lambda d: nodes.String(d.isoformat() + "Z"))
)
schemathesis.graphql.scalar("JSON", st.just(nodes.String("{}")))


@schemathesis.check
def csphub_errors_have_codes(ctx, response, case):
    """No 5xx; every error carries a code, and none is INTERNAL."""
    if response.status_code >= 500:
        raise AssertionError(f"status {response.status_code}: {response.text[:500]}")
    content_type = response.headers.get("content-type", [""])
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    if "json" not in content_type:
        if response.status_code >= 400:
            raise AssertionError(f"an error answer that is not JSON: {content_type}")
        return
    try:
        body = json.loads(response.text)
    except ValueError as e:
        raise AssertionError(f"unparseable JSON answer: {e}")
    errors = []
    if isinstance(body, dict):
        errors = list(body.get("errors") or [])
        if isinstance(body.get("error"), dict):
            errors.append(body["error"])
    for err in errors:
        code = (err.get("extensions") or {}).get("code") or err.get("code")
        if not code:
            raise AssertionError(f"an error without a code: {err}")
        if code == "INTERNAL":
            raise AssertionError(f"an INTERNAL error: {err}")

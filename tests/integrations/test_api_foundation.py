"""The API's shared parts (core/api.py): schema, problem answers, no login redirect."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_api_answers_a_stranger_401_as_a_problem_not_a_login_redirect(client):
    response = client.get("/api/v1/")
    assert response.status_code in (401, 403)
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == response.status_code


def test_the_schema_is_openapi_3_for_a_signed_in_user(rep_client):
    response = rep_client.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


def test_the_documentation_page_serves_swagger_ui_from_our_own_files(rep_client):
    response = rep_client.get("/api/v1/docs/")
    assert response.status_code == 200
    assert b"swagger-ui" in response.content
    assert b"cdn" not in response.content.lower()

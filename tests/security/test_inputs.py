"""Inputs at the edge: NUL and invalid UTF-8 are a 400 before any route runs (web/input_guard.py),
ids, numbers and dates out of range a 422 naming the field (core/inputs.py, web/params.py), typed
numbers read as ASCII digits only, and uploaded text decoded strictly."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD
from tests.helpers import csrf_token, login, post_form
from webapp.core.inputs import MAX_ID, whole_number
from webapp.identity.models import Role
from webapp.review.models import ReviewState
from webapp.submissions.models import SubmissionStatus
from webapp.web.input_guard import InputGuardMiddleware, _UrlencodedCheck

REFUSED = "contains a NUL character or bytes that are not UTF-8 text"


@pytest.mark.parametrize("path", ["/questions/a%00b", "/questions/caf%C3", "/login?next=%00", "/login?next=%FF%FE",
                                  "/questions?topic=a%00", "/questions?tag=%ff", "/static/%00.css", "/nowhere/%FF"])
def test_nul_or_invalid_utf8_in_the_address_is_a_400_page(client, path) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 400 and REFUSED in response.text
    assert response.headers["content-type"].startswith("text/html") and "<nav" in response.text  # the site's page
    assert response.headers["x-content-type-options"] == "nosniff"


def test_for_htmx_the_400_is_a_fragment_for_the_flash_area(client) -> None:
    response = client.get("/questions?q=%00", headers={"HX-Request": "true"})
    assert response.status_code == 400 and REFUSED in response.text
    assert response.headers["hx-retarget"] == "#flash-area" and "<nav" not in response.text


def test_a_cookie_with_nul_is_refused(client) -> None:
    assert client.get("/login", headers={"cookie": 'theme="\\000"'}).status_code == 400
    assert client.get("/login", headers={"cookie": "theme=dark"}).status_code == 200
    assert client.get("/login", headers={"user-agent": "x\x00y"}).status_code == 400


def _login_body(token: str, email: bytes) -> bytes:
    return b"email=" + email + b"&password=x&csrf_token=" + token.encode()


@pytest.mark.parametrize("email", [b"a%00b%40example.com", b"caf%C3%40example.com", b"%FF"])
def test_urlencoded_fields_with_nul_or_invalid_utf8_are_refused_anonymously(client, email) -> None:
    token = csrf_token(client)
    response = client.post("/login", content=_login_body(token, email), follow_redirects=False,
                           headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400 and REFUSED in response.text


def test_a_streamed_body_is_checked_across_chunk_boundaries(client) -> None:
    token = csrf_token(client)
    body = _login_body(token, b"caf%C3%A9%40example.com")
    split = body.index(b"%A9") + 1  # "%" at the end of one chunk, "A9" at the start of the next

    def chunks():
        yield body[:split]
        yield body[split:]

    fine = client.post("/login", content=chunks(), headers={"content-type": "application/x-www-form-urlencoded"},
                       follow_redirects=False)
    assert fine.status_code == 422  # unknown account: the body went through whole and intact
    bad = _login_body(token, b"caf%C3%0040example.com")
    refused = client.post("/login", content=iter([bad[:12], bad[12:]]), follow_redirects=False,
                          headers={"content-type": "application/x-www-form-urlencoded"})
    assert refused.status_code == 400


def test_the_urlencoded_check_splits_escapes_anywhere() -> None:
    for body in (b"a=caf%C3%A9&b=%E2%82%AC+x", b"a=100%25&b=%", b"a=%4"):
        for cut in range(len(body) + 1):
            check = _UrlencodedCheck()
            assert check.feed(body[:cut], final=False) and check.feed(body[cut:], final=True), (body, cut)
    for body in (b"a=%C3&b=%A9", b"a=x%00", b"a=%FF"):
        for cut in range(len(body) + 1):
            check = _UrlencodedCheck()
            assert not (check.feed(body[:cut], final=False) and check.feed(body[cut:], final=True)), (body, cut)


def test_multipart_fields_and_file_names_are_checked_but_file_contents_are_not(client, make_user) -> None:
    token = csrf_token(client)
    nul_field = client.post("/login", data={"email": "a\x00", "csrf_token": token}, files={"f": ("a.txt", b"x")})
    assert nul_field.status_code == 400 and REFUSED in nul_field.text
    raw = (b"--zz\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\n\xff\xfe\r\n"
           b"--zz\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n" + token.encode() + b"\r\n--zz--\r\n")
    invalid = client.post("/login", content=raw, headers={"content-type": "multipart/form-data; boundary=zz"})
    assert invalid.status_code == 400
    bad_name = (b"--zz\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\xff.py\"\r\n\r\nok\r\n--zz--\r\n")
    assert client.post("/login", content=bad_name,
                       headers={"content-type": "multipart/form-data; boundary=zz"}).status_code == 400
    login(client, make_user().email, PASSWORD)
    binary = post_form(client, "/practice/topics", {}, files={"f": ("a.bin", b"\x00\xff\xfe")}, token_page="/")
    assert binary.status_code == 303  # a file's bytes are the service's to judge


def test_an_uploaded_answer_that_is_not_utf8_text_gets_the_services_message(answer, bank) -> None:
    slug = next(q.slug for q in bank.questions if q.kind == "code")
    response = answer(slug, files={"file": ("app.py", b"print('caf\xe9')\n")})
    assert response.status_code == 400 and "is not valid UTF-8" in response.text
    response = answer(slug, files={"file": ("app.py", b"print(1)\x00\n")})
    assert response.status_code == 400 and "contains a NUL byte" in response.text


def test_bank_imports_refuse_nul_bytes_and_nul_escapes(admin_client, bank) -> None:
    def upload(content: bytes):
        return post_form(admin_client, "/admin/questions/import", token_page="/admin",
                         files={"file": ("bank.yaml", content, "application/yaml")})

    raw = upload(b"questions: []\n\x00")
    assert raw.status_code == 400 and "contains a NUL byte (byte 14)" in raw.text
    escaped = upload(b'topics:\n  - {slug: nul, name: "N\\0L"}\n')
    assert escaped.status_code == 422 and "contains a NUL character" in escaped.text


@pytest.mark.parametrize("path", ["/submissions/99999999999999999999", f"/submissions/{MAX_ID + 1}", "/submissions/0",
                                  "/progress/9223372036854775808", "/assessments/take/-1", "/practice/mock/²",
                                  "/submissions?before=99999999999999999999", "/review?after=2147483648",
                                  "/review?assessment=99999999999999999999", "/admin/queue/regrade/2147483648",
                                  "/admin/audit?until=9999-12-31", "/admin/audit?since=0001-01-01",
                                  "/admin/users?page=10001", "/questions?q=" + "x" * 1001])
def test_out_of_range_parameters_are_a_422_naming_them(admin_client, path) -> None:
    response = admin_client.get(path)
    assert response.status_code == 422, response.text
    name = path.split("?")[1].split("=")[0] if "?" in path else "_id"
    assert "Some of what you sent was not valid" in response.text and name in response.text


def test_largest_id_is_still_a_query_for_no_such_row(admin_client) -> None:
    assert admin_client.get(f"/submissions/{MAX_ID}").status_code == 404
    assert admin_client.get("/admin/audit?until=2100-12-31").status_code == 200


def test_form_ids_out_of_range_are_a_422(admin_client) -> None:
    for path, field in (("/admin/queue/requeue", "submission_id"), ("/admin/calibration/examples", "submission_id")):
        response = post_form(admin_client, path, {field: "99999999999999999999"}, token_page="/admin")
        assert response.status_code == 422 and field in response.text


def test_a_typed_number_in_unicode_digits_re_renders_the_form(make_user, make_client, make_submission, bank) -> None:
    interviewer = make_client()
    login(interviewer, make_user(Role.interviewer, email="iv@example.com").email, PASSWORD)
    slug = next(q.slug for q in bank.questions if q.kind == "text")
    for minutes in ("²", "٣٠", "9" * 999, "-5"):
        built = post_form(interviewer, "/assessments/new", {"title": "T", "time_limit": minutes, "questions": [slug]},
                          token_page="/assessments")
        assert built.status_code == 422 and "whole number of minutes from 5 to 480" in built.text
        assert 'name="time_limit"' in built.text  # the builder again, with the field's error
    longer = post_form(interviewer, "/assessments/new", {"title": "T", "time_limit": "9" * 5000, "questions": [slug]},
                       token_page="/assessments")
    assert longer.status_code == 422 and "time_limit: String should have at most 1000 characters" in longer.text
    submission = make_submission(make_user(), review=ReviewState.requested, status=SubmissionStatus.graded, score=40)
    assert post_form(interviewer, f"/review/{submission.id}/claim", token_page="/assessments").status_code == 303
    for score in ("²", "１００", "9" * 5000):
        saved = post_form(interviewer, f"/review/{submission.id}", {"final_score": score}, token_page="/assessments")
        assert saved.status_code == 422 and "Give a whole number from 0 to 100" in saved.text


def test_whole_number_reads_ascii_digits_only() -> None:
    assert [whole_number(t, low=0, high=100) for t in ("0", " 42 ", "007", "100")] == [0, 42, 7, 100]
    assert {whole_number(t, low=0, high=100) for t in ("", " ", "101", "-1", "²", "٣", "1.0", "1e2", "9" * 5000)} == \
        {None}
    assert whole_number("5", low=5, high=480) == 5 and whole_number("4", low=5, high=480) is None


def test_without_the_guard_the_types_still_refuse_nul(monkeypatch, admin_client, make_submission, make_user) -> None:
    """Two layers: were the edge guard gone, declared fields, filters and whole-form routes refuse NUL."""

    async def passthrough(self, scope, receive, send):
        await self.app(scope, receive, send)

    monkeypatch.setattr(InputGuardMiddleware, "__call__", passthrough)
    assert admin_client.get("/questions?topic=a%00").status_code == 422
    assert admin_client.get("/questions/a%00b").status_code == 422
    joined = post_form(admin_client, "/assessments/join", {"code": "a\x00"}, token_page="/admin")
    assert joined.status_code == 422 and "must not contain a NUL character" in joined.text
    submission = make_submission(make_user(), review=ReviewState.requested, status=SubmissionStatus.graded)
    saved = post_form(admin_client, f"/review/{submission.id}", {"overall_comment": "a\x00"}, token_page="/admin")
    assert saved.status_code == 422 and "overall_comment" in saved.text

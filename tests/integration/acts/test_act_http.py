"""Acts over HTTP: read, download, upload to verify, and the public verification page."""

from __future__ import annotations

import hashlib
import re
import urllib.parse
from typing import Any

import pytest

from service.acts.sealing import Sealer
from service.acts.verification import MAX_UPLOAD_BYTES
from service.common.actor import Role
from service.db.models import Act, AuditEntry
from tests.conftest import problem
from tests.integration.acts.conftest import Acts, Field
from tests.integration.builders import Builder

pytestmark = pytest.mark.asyncio


def _pdf_upload(data: bytes, name: str = "act.pdf") -> dict[str, Any]:
    return {"file": (name, data, "application/pdf")}


async def _follow(client: Any, response: Any) -> Any:
    """Follow a redirect to the app's own signed blob URL."""
    assert response.status_code == 307, response.text
    url = urllib.parse.urlsplit(response.headers["location"])
    return await client.get(f"{url.path}?{url.query}")


async def test_get_act_with_snapshot_and_etag(client: Any, acts: Acts, field: Field) -> None:
    act = await acts.signed(field)
    response = await client.get(f"/api/v1/acts/{act.id}", headers=field.dispatcher.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["number"] == act.number
    assert body["status"] == "signed"
    assert body["pdf_sha256"] == act.pdf_sha256
    assert body["snapshot"]["act_number"] == act.number
    assert body["verify_url"].endswith(f"/verify/acts/{act.public_id}")
    assert body["snapshot"]["verify_url"] == body["verify_url"]
    assert response.headers["etag"].startswith('"signed-')


async def test_list_acts_filters_by_order_and_visit(client: Any, acts: Acts, field: Field) -> None:
    completion = await acts.signed(field)
    handover = await acts.draft(field, kind="handover")
    headers = field.dispatcher.headers
    listed = await client.get(
        "/api/v1/acts", params={"work_order_id": str(field.order.id)}, headers=headers
    )
    assert listed.status_code == 200, listed.text
    assert [i["number"] for i in listed.json()["items"]] == [handover.number, completion.number]
    drafts = await client.get(
        "/api/v1/acts", params={"visit_id": str(field.visit.id), "status": "draft"}, headers=headers
    )
    assert [i["id"] for i in drafts.json()["items"]] == [str(handover.id)]
    page = await client.get(
        "/api/v1/acts", params={"work_order_id": str(field.order.id), "limit": 1}, headers=headers
    )
    assert page.json()["next_cursor"]


async def test_pdf_redirects_to_a_short_lived_url_of_the_stored_file(
    client: Any, acts: Acts, field: Field
) -> None:
    act = await acts.signed(field)
    response = await client.get(
        f"/api/v1/acts/{act.id}/pdf", headers=field.technician.headers, follow_redirects=False
    )
    assert response.headers["cache-control"] == "no-store"
    download = await _follow(client, response)
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("application/pdf")
    assert hashlib.sha256(download.content).hexdigest() == act.pdf_sha256
    assert "attachment" in download.headers["content-disposition"]
    assert urllib.parse.quote(act.number) in download.headers["content-disposition"]


async def test_sealed_act_downloads_the_sealed_pdf(
    client: Any, acts: Acts, field: Field, sealer: Sealer
) -> None:
    act = await acts.signed(field, sealer=sealer)
    response = await client.get(
        f"/api/v1/acts/{act.id}/pdf", headers=field.dispatcher.headers, follow_redirects=False
    )
    download = await _follow(client, response)
    assert hashlib.sha256(download.content).hexdigest() == act.sealed_pdf_sha256


async def test_draft_has_no_pdf_yet(client: Any, acts: Acts, field: Field) -> None:
    act = await acts.draft(field)
    response = await client.get(
        f"/api/v1/acts/{act.id}/pdf", headers=field.dispatcher.headers, follow_redirects=False
    )
    assert response.status_code == 409
    assert problem(response)["code"] == "act_not_signed"


async def test_upload_of_the_stored_pdf_is_intact(client: Any, acts: Acts, field: Field) -> None:
    act = await acts.signed(field)
    pdf = await acts.store.get(act.pdf_key or "")
    response = await client.post(
        "/api/v1/acts/verify", files=_pdf_upload(pdf), headers=field.dispatcher.headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["verdict"] == "intact"
    assert body["matched"] == "signed_pdf"
    assert body["sha256"] == act.pdf_sha256
    assert body["act"]["number"] == act.number
    assert body["act_id"] == str(act.id)


async def test_upload_of_a_modified_pdf_names_the_act_and_says_modified(
    client: Any, acts: Acts, field: Field
) -> None:
    act = await acts.signed(field)
    pdf = await acts.store.get(act.pdf_key or "")
    middle = len(pdf) // 2
    modified = pdf[:middle] + bytes([pdf[middle] ^ 0x20]) + pdf[middle + 1 :]
    response = await client.post(
        "/api/v1/acts/verify", files=_pdf_upload(modified), headers=field.technician.headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["verdict"] == "modified"
    assert body["matched"] is None
    assert body["act"]["number"] == act.number
    assert body["act"]["pdf_sha256"] == act.pdf_sha256
    assert body["sha256"] == hashlib.sha256(modified).hexdigest()
    # Re-saved without the document information: the trailer /ID still names the act.
    no_subject = re.sub(rb"/Subject \(sha256:[0-9a-f]{64}\)", b"", pdf)
    response = await client.post(
        "/api/v1/acts/verify", files=_pdf_upload(no_subject), headers=field.technician.headers
    )
    assert (response.json()["verdict"], response.json()["act"]["number"]) == (
        "modified",
        act.number,
    )


async def test_modified_sealed_pdf_reports_the_broken_seal(
    acts: Acts, field: Field, sealer: Sealer
) -> None:
    act = await acts.signed(field, sealer=sealer)
    sealed = await acts.store.get(act.sealed_pdf_key or "")
    middle = len(sealed) // 3
    modified = sealed[:middle] + bytes([sealed[middle] ^ 0x20]) + sealed[middle + 1 :]
    async with acts.service(field.dispatcher, sealer=sealer) as service:
        intact = await service.verify_pdf(sealed)
        verdict = await service.verify_pdf(modified)
    assert (intact.verdict, intact.matched) == ("intact", "sealed_pdf")
    assert verdict.verdict == "modified"
    assert verdict.seal is not None
    assert verdict.seal.status in ("modified", "invalid")


async def test_upload_of_an_unknown_pdf_and_of_a_draft(
    client: Any, acts: Acts, field: Field
) -> None:
    stranger = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<</ID [<00><00>]>>\n%%EOF\n"
    response = await client.post(
        "/api/v1/acts/verify", files=_pdf_upload(stranger), headers=field.dispatcher.headers
    )
    assert response.status_code == 200
    assert response.json()["verdict"] == "unknown"
    assert response.json()["act"] is None
    act = await acts.draft(field)
    async with acts.service(field.technician) as service:
        preview = await service._render(  # a preview PDF rendered before signing
            service.stored_snapshot(await acts.row(act.id)), [], {}
        )
    response = await client.post(
        "/api/v1/acts/verify", files=_pdf_upload(preview), headers=field.dispatcher.headers
    )
    assert response.json()["verdict"] == "not_signed"
    assert response.json()["act"]["status"] == "draft"


@pytest.mark.parametrize(
    ("files", "status"),
    [
        ({"file": ("act.pdf", b"GIF89a not a pdf", "application/pdf")}, 422),
        ({"file": ("act.pdf", b"", "application/pdf")}, 422),
        ({"other": ("x.txt", b"hello", "text/plain")}, 400),
    ],
    ids=["not-a-pdf", "empty", "no-file-field"],
)
async def test_bad_uploads_are_4xx_problems_and_write_nothing(
    client: Any, build: Builder, field: Field, files: dict[str, Any], status: int
) -> None:
    before = (await build.count(AuditEntry), await build.count(Act))
    response = await client.post(
        "/api/v1/acts/verify", files=files, headers=field.dispatcher.headers
    )
    assert response.status_code == status, response.text
    problem(response)
    assert (await build.count(AuditEntry), await build.count(Act)) == before


async def test_json_instead_of_a_file_is_refused(client: Any, field: Field) -> None:
    response = await client.post(
        "/api/v1/acts/verify", json={"file": "JVBERi0="}, headers=field.dispatcher.headers
    )
    assert 400 <= response.status_code < 500
    problem(response)


async def test_upload_over_the_limit_is_413(client: Any, field: Field) -> None:
    big = b"%PDF-1.4\n" + b"0" * (MAX_UPLOAD_BYTES + 128 * 1024)
    response = await client.post(
        "/api/v1/acts/verify", files=_pdf_upload(big), headers=field.dispatcher.headers
    )
    assert response.status_code == 413
    problem(response)


# The public page


async def test_public_json_has_hashes_and_initials_only(
    client: Any, acts: Acts, field: Field
) -> None:
    act = await acts.signed(field)
    response = await client.get(
        f"/verify/acts/{act.public_id}", headers={"Accept": "application/json"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["number"] == act.number
    assert body["status"] == "signed"
    assert body["snapshot_sha256"] == act.snapshot_sha256
    assert body["pdf_sha256"] == act.pdf_sha256
    assert body["customer_initials"] == "Н. Ә."
    assert body["technician_initials"] == "С. Қ."
    assert body["issuer"]["tax_id"] == field.tax_id
    assert body["audit_hash"] == act.audit_hash
    text = response.text
    for personal in ("Нұрланова", "Әлия", "Серікбаев", "+7701", field.area.site.address):
        assert personal not in text
    assert "id" not in body  # no internal ids either
    assert response.headers["cache-control"].startswith("public")


async def test_public_html_page_in_the_requested_language(
    client: Any, acts: Acts, field: Field
) -> None:
    act = await acts.signed(field)
    url = f"/verify/acts/{act.public_id}"
    kazakh = await client.get(url, headers={"Accept": "text/html"})  # the act's language
    assert kazakh.status_code == 200
    assert kazakh.headers["content-type"] == "text/html; charset=utf-8"
    assert kazakh.headers["content-language"] == "kk"
    assert "Орындалған жұмыстар актісі" in kazakh.text
    assert act.number in kazakh.text
    assert act.snapshot_sha256 in kazakh.text
    policy = kazakh.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    assert re.search(r"style-src 'nonce-[A-Za-z0-9_-]{16,}'", policy)
    russian = await client.get(url, headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
    assert russian.headers["content-language"] == "ru"
    assert "Акт подписан" in russian.text
    english = await client.get(f"{url}?lang=en", headers={"Accept-Language": "ru"})
    assert english.headers["content-language"] == "en"
    assert "Signed by the customer" in english.text
    for page in (kazakh, russian, english):
        # No personal data: not even initials.
        assert "Нұрланова" not in page.text
        assert "Н. Ә." not in page.text


async def test_public_page_shows_a_draft_as_not_signed(
    client: Any, acts: Acts, field: Field
) -> None:
    act = await acts.draft(field)
    page = await client.get(f"/verify/acts/{act.public_id}?lang=ru")
    assert page.status_code == 200
    assert "Ожидает подписи клиента" in page.text


@pytest.mark.parametrize("public_id", ["A" * 22, "not a valid id!", "x"])
async def test_unknown_public_id_is_404_without_detail(client: Any, public_id: str) -> None:
    url = f"/verify/acts/{urllib.parse.quote(public_id)}"
    as_json = await client.get(url, headers={"Accept": "application/json"})
    assert as_json.status_code == 404
    assert public_id not in problem(as_json).get("detail", "")  # type: ignore[operator]
    as_html = await client.get(url, headers={"Accept": "text/html"})
    assert as_html.status_code == 404
    assert as_html.headers["content-type"].startswith("text/html")
    assert as_html.headers["cache-control"] == "no-store"


async def test_public_page_needs_no_login_and_ignores_bad_tokens(
    client: Any, acts: Acts, field: Field
) -> None:
    act = await acts.signed(field)
    response = await client.get(
        f"/verify/acts/{act.public_id}",
        headers={"Authorization": "Bearer x.y.z", "Accept": "application/json"},
    )
    assert response.status_code == 200


async def test_staff_read_is_not_audited_as_a_change(
    client: Any, acts: Acts, field: Field, build: Builder
) -> None:
    act = await acts.signed(field)
    before = await build.count(AuditEntry)
    admin = await build.person(Role.ADMIN)
    await client.get(f"/api/v1/acts/{act.id}", headers=admin.headers)
    await client.get(f"/verify/acts/{act.public_id}")
    assert await build.count(AuditEntry) == before

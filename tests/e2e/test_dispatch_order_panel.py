"""The dispatcher's order panel after a whole visit: photos, act PDF, rating, timeline, clocks.

Issue #12 item 6 asks the panel for acts (PDF), photos (thumbnails through signed URLs) and the
rating; the page tests only ever saw orders without them. Here a visit is driven through the
mobile API to a signed, rendered act and a rating, and the territory's dispatcher opens the order.
"""

from __future__ import annotations

import hashlib
import html
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from litestar import Litestar
from sqlalchemy import select

from service.acts.page import act_status_text
from service.db.models import OutboxMessage, Photo
from tests.e2e.visit_flow import Phone, local_path, rendered_act, signature_body
from tests.integration.builders import Builder
from tests.integration.mobile.conftest import Field
from tests.integration.staff.forms import sign_in

pytestmark = pytest.mark.asyncio

_IMG = re.compile(r'<img src="([^"]+)"')


async def test_the_order_panel_shows_photos_act_pdf_rating_and_the_visits_events(
    app: Litestar, web: Any, build: Builder, field: Field
) -> None:
    day = await web.get("/mobile/v1/day", headers=field.phone.headers())
    (visit,) = day.json()["visits"]
    site = visit["location"]
    phone = Phone(web, field.phone.access_token, visit["visit_id"], site)
    here = {"lat": site["lat"], "lon": site["lon"], "accuracy_m": 5}
    await phone.push(phone.op("en_route", {"eta": phone.clock.isoformat()}))
    await phone.push(phone.op("arrived", location=here))
    await phone.answer_until_signing(visit["work_type"])
    started = await web.post(
        f"/mobile/v1/visits/{visit['visit_id']}/acts", json={}, headers=field.phone.headers()
    )
    assert started.status_code == 201, started.text
    link = started.json()
    signed = await web.post(
        local_path(link["signing_url"]), json=signature_body(link["snapshot_sha256"])
    )
    assert signed.status_code == 200, signed.text
    act, pdf = await rendered_act(app, build, link["act_id"])
    done = await phone.push(
        phone.op("checklist_answer", {"step_id": "thanked", "value": True}),
        phone.op("outcome", {"outcome": "completed"}),
    )
    assert [r["status"] for r in done] == ["applied", "applied"], done
    async with build.sessionmaker() as session:
        message = await session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.event == "rating.requested",
                OutboxMessage.recipient_id == field.area.customer.id,
            )
        )
        photos = (
            await session.scalars(
                select(Photo).where(Photo.visit_id == field.visit.id, Photo.status == "stored")
            )
        ).all()
    assert message is not None
    assert photos
    rated = await web.post(
        local_path(message.context["rating_url"]),
        json={"score": 4, "comment": "Мастер вежливый, но опоздал"},
    )
    assert rated.status_code == 200, rated.text

    assert (await sign_in(web, field.dispatcher)).status_code == 303
    panel = await web.get(f"/dispatch/orders/{field.order.id}")
    assert panel.status_code == 200, panel.text
    text = html.unescape(panel.text)

    # Every stored photo as a thumbnail whose signed URL serves the bytes the phone sent.
    sources = [html.unescape(src) for src in _IMG.findall(panel.text)]
    assert len(sources) == len(photos)
    by_hash = {p.sha256 for p in photos}
    for source in sources:
        image = await web.get(local_path(source))
        assert image.status_code == 200, source
        assert hashlib.sha256(image.content).hexdigest() in by_hash
    # The page's CSP lets the browser load them (the signed URLs' origin is in img-src).
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(sources[0]))
    assert origin in panel.headers["content-security-policy"]

    # The act with its PDF, through the panel's own link to a short-lived signed URL.
    # Its status in words, as the verification page says it, in the page's language.
    assert f"{act.number} · Signed by the customer ·" in text
    kk = re.search(r'<a href="([^"]+)" hreflang="kk"', panel.text)
    assert kk
    in_kazakh = await web.get(html.unescape(kk[1]), follow_redirects=True)
    assert in_kazakh.status_code == 200
    assert f"{act.number} · {act_status_text('signed', 'kk')} ·" in html.unescape(in_kazakh.text)
    assert act_status_text("signed", "kk") != "Signed by the customer"
    back = re.search(r'<a href="([^"]+)" hreflang="en"', in_kazakh.text)
    assert back
    await web.get(html.unescape(back[1]), follow_redirects=True)
    pdf_link = f"/dispatch/acts/{act.id}/pdf"
    assert pdf_link in text
    redirect = await web.get(pdf_link)
    assert redirect.status_code == 303, redirect.text
    served = await web.get(local_path(redirect.headers["location"]))
    assert served.status_code == 200
    assert served.content == pdf

    # The customer's rating, the visit's events on the timeline, the SLA clocks.
    assert "4/5" in text
    assert "Мастер вежливый, но опоздал" in text
    timeline = text.split('id="timeline-title"', 1)[1].split("</section>", 1)[0]
    assert timeline.count("<li>") >= 3
    clocks = text.split('id="clocks-title"', 1)[1].split("</section>", 1)[0]
    assert 'class="clock' in clocks

"""Signatures, masking, adapters' outcome classification, the backoff schedule, settings."""

from __future__ import annotations

import logging
import random
import uuid
from datetime import UTC, datetime

import httpx
import msgspec
import pytest

from service.notifications.channels import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    DeliveryFailed,
    LogChannel,
    WebhookChannel,
    build_channels,
    mask_address,
    sign,
    verify_signature,
)
from service.notifications.schemas import OutgoingMessage, Recipient
from service.notifications.worker import RetryPolicy, backoff_ceiling, backoff_delay
from service.settings import NotificationSettings, SettingsError, load_settings

SECRET = "webhook-secret-0123456789abcdef"
PHONE = "+77011234567"


def message(**changes: object) -> OutgoingMessage:
    """A rendered SMS."""
    fields: dict[str, object] = {
        "delivery_id": uuid.uuid4(),
        "event": "visit.en_route",
        "channel": "sms",
        "recipient": Recipient(kind="customer", address=PHONE, id=uuid.uuid4()),
        "language": "ru",
        "subject": "Специалист в пути",
        "text": "Специалист выехал к Вам. Ожидаемое время прибытия: 10:25. naryad",
        "attempt": 1,
        "created_at": datetime(2026, 11, 22, 5, 0, tzinfo=UTC),
    }
    fields.update(changes)
    return OutgoingMessage(**fields)  # type: ignore[arg-type]


def test_signature_round_trip_and_tampering() -> None:
    body = b'{"delivery_id":"1","text":"hi"}'
    header = sign(SECRET, body)
    assert header.startswith("sha256=")
    assert len(header) == len("sha256=") + 64
    assert verify_signature(SECRET, body, header)
    assert not verify_signature(SECRET, body + b" ", header)
    assert not verify_signature("another-secret-0123456789", body, header)
    assert not verify_signature(SECRET, body, header.removeprefix("sha256="))
    assert not verify_signature(SECRET, body, None)
    assert not verify_signature(SECRET, body, "")


def test_masking_never_shows_a_whole_address() -> None:
    assert mask_address(PHONE) == "+7701***4567"
    assert mask_address("ivan.petrov@example.kz") == "i***@example.kz"
    assert mask_address("fcm-device-token-abcdef") == "fcm-***"
    assert mask_address("short") == "***"


async def test_log_channel_logs_ids_and_a_masked_address_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outgoing = message(text="Код подтверждения: 482913.")
    with caplog.at_level(logging.INFO, logger="naryad.notifications"):
        await LogChannel().send(outgoing)
    logged = caplog.text
    assert str(outgoing.delivery_id) in logged
    assert "visit.en_route" in logged
    assert "+7701***4567" in logged
    assert PHONE not in logged
    assert "482913" not in logged


async def test_webhook_signs_the_exact_body_and_classifies_answers() -> None:
    seen: list[httpx.Request] = []
    answers = iter([200, 503, 429, 404, 400])

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(next(answers))

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        channel = WebhookChannel("https://gw.example/hook", SECRET, client=client)
        outgoing = message()
        await channel.send(outgoing)
        request = seen[0]
        assert request.headers[DELIVERY_HEADER] == str(outgoing.delivery_id)
        assert verify_signature(SECRET, request.content, request.headers[SIGNATURE_HEADER])
        payload = msgspec.json.decode(request.content)
        assert payload["delivery_id"] == str(outgoing.delivery_id)
        assert (payload["to"], payload["channel"], payload["language"]) == (PHONE, "sms", "ru")
        assert payload["text"] == outgoing.text
        for retryable in (True, True, False, False):
            with pytest.raises(DeliveryFailed) as failed:
                await channel.send(outgoing)
            assert failed.value.retryable is retryable
            assert PHONE not in failed.value.reason


async def test_webhook_timeouts_and_refused_connections_are_retryable() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    for handler, reason in ((slow, "timed out"), (refused, "unreachable")):
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            channel = WebhookChannel("https://gw.example/hook", SECRET, client=client)
            with pytest.raises(DeliveryFailed, match=reason) as failed:
                await channel.send(message())
            assert failed.value.retryable


async def test_channels_from_settings() -> None:
    log_set = build_channels(NotificationSettings())
    assert isinstance(log_set.get("sms"), LogChannel)
    webhook_set = build_channels(
        NotificationSettings(adapter="webhook", webhook_url="https://gw/x", webhook_secret=SECRET)
    )
    assert isinstance(webhook_set.get("email"), WebhookChannel)
    assert webhook_set.get("push") is webhook_set.get("sms")
    with pytest.raises(DeliveryFailed) as failed:
        webhook_set.get("fax")
    assert not failed.value.retryable
    await webhook_set.aclose()


def test_backoff_doubles_up_to_the_cap_with_bounded_jitter() -> None:
    policy = RetryPolicy(max_attempts=10, base_seconds=30, max_seconds=600, jitter=0.5)
    assert [backoff_ceiling(n, policy) for n in range(1, 8)] == [30, 60, 120, 240, 480, 600, 600]
    assert backoff_ceiling(10_000, policy) == 600
    rng = random.Random(7)
    for attempt in range(1, 12):
        ceiling = backoff_ceiling(attempt, policy)
        for _ in range(50):
            delay = backoff_delay(attempt, policy, rng)
            assert ceiling * 0.5 <= delay <= ceiling
    no_jitter = RetryPolicy(base_seconds=1, max_seconds=100, jitter=0)
    assert [backoff_delay(n, no_jitter) for n in (1, 2, 3)] == [1, 2, 4]
    with pytest.raises(ValueError, match="1-based"):
        backoff_ceiling(0, policy)


def test_notification_settings_from_environment() -> None:
    default = load_settings({})
    assert default.notifications.adapter == "log"
    configured = load_settings(
        {
            "NARYAD_NOTIFY_ADAPTER": "webhook",
            "NARYAD_NOTIFY_WEBHOOK_URL": "https://gw.example/hook",
            "NARYAD_NOTIFY_WEBHOOK_SECRET": SECRET,
            "NARYAD_NOTIFY_MAX_ATTEMPTS": "3",
            "NARYAD_NOTIFY_BACKOFF_BASE_SECONDS": "0.5",
            "NARYAD_WORKER_POLL_SECONDS": "0.2",
            "NARYAD_WORKER_LEASE_SECONDS": "30",
            "NARYAD_WORKER_CONCURRENCY": "4",
        }
    ).notifications
    assert (configured.adapter, configured.max_attempts, configured.concurrency) == (
        "webhook",
        3,
        4,
    )
    assert (configured.backoff_base_seconds, configured.poll_seconds) == (0.5, 0.2)
    for bad, match in (
        ({"NARYAD_NOTIFY_ADAPTER": "carrier-pigeon"}, "NOTIFY_ADAPTER"),
        ({"NARYAD_NOTIFY_ADAPTER": "webhook"}, "WEBHOOK_URL"),
        ({"NARYAD_WORKER_POLL_SECONDS": "soon"}, "WORKER_POLL_SECONDS"),
        ({"NARYAD_NOTIFY_MAX_ATTEMPTS": "0"}, "MAX_ATTEMPTS"),
        ({"NARYAD_WORKER_LEASE_SECONDS": "5"}, "LEASE_SECONDS"),
    ):
        with pytest.raises(SettingsError, match=match):
            load_settings(bad)

"""Channel adapters behind one interface: a signed webhook (the real one) and a log (development).

SMS, e-mail and push go through a gateway the operator runs behind a webhook: naryad POSTs a
signed JSON body naming the channel, the address and the rendered text; the gateway talks to
the SMS provider, the mail server or FCM/APNs. The receiver deduplicates on the delivery id,
because delivery is at least once.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping
from typing import Protocol

import httpx
import msgspec

from service.db.base import utcnow
from service.notifications.schemas import CHANNELS, OutgoingMessage, WebhookPayload
from service.settings import NotificationSettings

logger = logging.getLogger("naryad.notifications")

DELIVERY_HEADER = "X-Naryad-Delivery"
SIGNATURE_HEADER = "X-Naryad-Signature"
EVENT_HEADER = "X-Naryad-Event"
_SIGNATURE_PREFIX = "sha256="
# Statuses worth retrying: the receiver is overloaded, restarting or asks us to slow down.
_RETRYABLE_STATUSES = frozenset({408, 425, 429})


class DeliveryFailed(Exception):
    """A channel could not deliver; ``retryable`` says whether trying again may help.

    ``reason`` goes to the outbox row's last_error and to logs, so it never carries the
    recipient's address or the message text.
    """

    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


class Channel(Protocol):
    """Sends one rendered message or raises DeliveryFailed."""

    async def send(self, message: OutgoingMessage) -> None:
        """Deliver ``message``; return only when the receiver accepted it."""
        ...


def mask_address(address: str) -> str:
    """An address safe for logs: ``+7701***4567``, ``a***@example.kz``, ``dGVz***``."""
    if "@" in address:
        local, _, domain = address.rpartition("@")
        return f"{local[:1]}***@{domain}"
    if address.startswith("+") and len(address) >= 10:
        return f"{address[:5]}***{address[-4:]}"
    return f"{address[:4]}***" if len(address) > 8 else "***"


def sign(secret: str, body: bytes) -> str:
    """The signature header value: ``sha256=`` and the hex HMAC-SHA256 of the raw body."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return _SIGNATURE_PREFIX + digest


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    """For receivers: True when ``header`` is the signature of exactly these body bytes."""
    if not header or not header.startswith(_SIGNATURE_PREFIX):
        return False
    return hmac.compare_digest(sign(secret, body), header.strip())


class LogChannel:
    """Development channel: logs that a message would go out, without any personal data.

    The text is logged only when asked (development): it holds no names or phones, but
    one-time codes and act links are secrets of their own.
    """

    def __init__(self, *, include_text: bool = False) -> None:
        self.include_text = include_text

    async def send(self, message: OutgoingMessage) -> None:
        """Log the delivery id, event, channel and a masked address."""
        logger.info(
            "notification delivery=%s event=%s channel=%s to=%s lang=%s attempt=%d%s",
            message.delivery_id,
            message.event,
            message.channel,
            mask_address(message.recipient.address),
            message.language,
            message.attempt,
            f" text={message.text!r}" if self.include_text else "",
        )


class WebhookChannel:
    """POSTs a signed JSON body to the gateway; 2xx is delivered, 5xx and timeouts retry."""

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        timeout_seconds: float = 10.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.url = url
        self._secret = secret
        self._own_client = client is None
        self._client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_seconds), follow_redirects=False
        )

    def body_for(self, message: OutgoingMessage) -> bytes:
        """The exact bytes that are signed and sent."""
        return msgspec.json.encode(
            WebhookPayload(
                delivery_id=message.delivery_id,
                event=message.event,
                channel=message.channel,
                recipient_kind=message.recipient.kind,
                recipient_id=message.recipient.id,
                to=message.recipient.address,
                language=message.language,
                subject=message.subject,
                text=message.text,
                attempt=message.attempt,
                created_at=message.created_at,
                sent_at=utcnow(),
            )
        )

    async def send(self, message: OutgoingMessage) -> None:
        """POST the message; classify the outcome for the retry policy."""
        body = self.body_for(message)
        headers = {
            "Content-Type": "application/json",
            DELIVERY_HEADER: str(message.delivery_id),
            EVENT_HEADER: message.event,
            SIGNATURE_HEADER: sign(self._secret, body),
        }
        try:
            response = await self._client.post(self.url, content=body, headers=headers)
        except httpx.TimeoutException:
            raise DeliveryFailed("webhook timed out", retryable=True) from None
        except httpx.HTTPError as exc:
            # Connection refused, reset, DNS: the gateway may be back soon.
            raise DeliveryFailed(
                f"webhook unreachable: {type(exc).__name__}", retryable=True
            ) from None
        status = response.status_code
        if 200 <= status < 300:
            return
        retryable = status >= 500 or status in _RETRYABLE_STATUSES
        raise DeliveryFailed(f"webhook answered HTTP {status}", retryable=retryable)

    async def aclose(self) -> None:
        """Close the HTTP client when this channel created it."""
        if self._own_client:
            await self._client.aclose()


class ChannelSet:
    """Which adapter serves each channel name."""

    def __init__(
        self, channels: Mapping[str, Channel], *, webhook: WebhookChannel | None = None
    ) -> None:
        self._channels: dict[str, Channel] = dict(channels)
        self._webhook = webhook

    def get(self, name: str) -> Channel:
        """The adapter for ``name``; DeliveryFailed (not retryable) when none is configured."""
        channel = self._channels.get(name)
        if channel is None:
            raise DeliveryFailed(f"no adapter for channel {name}", retryable=False)
        return channel

    async def aclose(self) -> None:
        """Release HTTP clients."""
        if self._webhook is not None:
            await self._webhook.aclose()


def build_channels(
    settings: NotificationSettings,
    *,
    include_text: bool = False,
    client: httpx.AsyncClient | None = None,
) -> ChannelSet:
    """Adapters from settings: every channel through the signed webhook, or all to the log."""
    if settings.adapter == "webhook":
        if not settings.webhook_url or not settings.webhook_secret:
            raise ValueError("the webhook adapter needs a URL and a secret")
        webhook = WebhookChannel(
            settings.webhook_url,
            settings.webhook_secret,
            timeout_seconds=settings.webhook_timeout_seconds,
            client=client,
        )
        return ChannelSet(dict.fromkeys(CHANNELS, webhook), webhook=webhook)
    log = LogChannel(include_text=include_text)
    return ChannelSet(dict.fromkeys(CHANNELS, log))

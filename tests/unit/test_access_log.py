"""Access log masking: link tokens in paths and URL signatures never reach a log line."""

from __future__ import annotations

import logging

import pytest

from service.common.access_log import MaskSecretsFilter, mask_secrets

TOKEN = "q3R_x-9fA0bcdEFghIJklMNopQRstUVwxYZ0123456"


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        (f"/mobile/v1/sign/{TOKEN}", "/mobile/v1/sign/***"),
        (f"/mobile/v1/sign/{TOKEN}/otp", "/mobile/v1/sign/***/otp"),
        (f"/mobile/v1/sign/{TOKEN}?lang=kk", "/mobile/v1/sign/***?lang=kk"),
        (f"/mobile/v1/acts/copy/{TOKEN}", "/mobile/v1/acts/copy/***"),
        (f"/rate/{TOKEN}?lang=ru", "/rate/***?lang=ru"),
        (f"/appeal/status/{TOKEN}?lang=kk", "/appeal/status/***?lang=kk"),
        (f"/appeal/status/{TOKEN}/letter", "/appeal/status/***/letter"),
        (
            f"/blobs/acts/2026/a.pdf?exp=1893456000&sig={TOKEN}&dl=act.pdf",
            "/blobs/acts/2026/a.pdf?exp=1893456000&sig=***&dl=act.pdf",
        ),
        (
            "/x?X-Amz-Signature=abc&X-Amz-Credential=AKIA%2F1",
            "/x?X-Amz-Signature=***&X-Amz-Credential=***",
        ),
        ("/api/v1/work-orders?limit=5", "/api/v1/work-orders?limit=5"),
        ("/health", "/health"),
    ],
)
def test_mask_secrets(raw: str, masked: str) -> None:
    assert mask_secrets(raw) == masked


def test_the_filter_rewrites_uvicorn_access_arguments() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", f"/rate/{TOKEN}", "1.1", 200),
        None,
    )
    assert MaskSecretsFilter().filter(record) is True
    line = record.getMessage()
    assert TOKEN not in line
    assert line == '127.0.0.1:5000 - "GET /rate/*** HTTP/1.1" 200'

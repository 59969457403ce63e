"""Access logs without secrets: customer link tokens and URL signatures are masked.

A customer's signing, copy, rating and appeal-status links carry their bearer token in the
path, and signed blob URLs carry their signature in the query: an access log line holding
either is a working key to the customer's act or appeal. uvicorn logs the raw path and query
on ``uvicorn.access``; the filter rewrites each record's arguments before any handler formats
it.
"""

from __future__ import annotations

import logging
import re

MASK = "***"
ACCESS_LOGGER = "uvicorn.access"
# /mobile/v1/sign/<token>[/...], /mobile/v1/acts/copy/<token>, /rate/<token>,
# /appeal/status/<token>[/letter]
_TOKEN_IN_PATH = re.compile(
    r"(/(?:mobile/v1/sign|mobile/v1/acts/copy|rate|appeal/status)/)([^/?#\s\"]+)"
)
# ?sig=... on local blob URLs; the AWS SigV4 query on presigned S3 URLs, if ever proxied.
_SECRET_QUERY = re.compile(
    r"([?&](?:sig|x-amz-signature|x-amz-credential|x-amz-security-token)=)[^&#\s\"]*",
    re.IGNORECASE,
)


def mask_secrets(text: str) -> str:
    """``text`` with link tokens in paths and signatures in queries replaced by ``***``."""
    masked = _TOKEN_IN_PATH.sub(lambda m: m.group(1) + MASK, text)
    return _SECRET_QUERY.sub(lambda m: m.group(1) + MASK, masked)


class MaskSecretsFilter(logging.Filter):
    """Masks link tokens and URL signatures in a record's message and string arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        if isinstance(record.msg, str):
            record.msg = mask_secrets(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                mask_secrets(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True


def install_access_log_masking(name: str = ACCESS_LOGGER) -> None:
    """Attach the filter to the access logger once (create_app may run more than once)."""
    logger = logging.getLogger(name)
    if not any(isinstance(f, MaskSecretsFilter) for f in logger.filters):
        logger.addFilter(MaskSecretsFilter())

"""Presigned URLs per second: the process-wide boto3 client against a new client per URL.

Run: ``.venv/bin/python -m tests.bench.bench_storage``. Presigning needs no network, so the
endpoint is ``NARYAD_S3_ENDPOINT_URL`` when set and a dummy address otherwise. Both sides go
through the same worker-thread hop and are measured in alternating rounds; the ratio is the
figure that matters on a shared machine.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import anyio.to_thread

from service.storage import LocalBlobStore, S3BlobStore
from service.storage.s3 import new_client

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

ROUNDS = 5
ROUND_SECONDS = 0.6
DIGEST = hashlib.sha256(b"bench").hexdigest()
KEY = "photos/2026/11/00000000-0000-0000-0000-000000000000.jpg"


async def _rate(step: Callable[[], Awaitable[object]], seconds: float) -> float:
    """Calls per second of step over about `seconds` (at least one call)."""
    done = 0
    start = time.perf_counter()
    while True:
        await step()
        done += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return done / elapsed


async def run() -> dict[str, float]:
    """Median URLs per second for each way of presigning."""
    endpoint = os.environ.get("NARYAD_S3_ENDPOINT_URL", "http://127.0.0.1:9")
    store = S3BlobStore(
        "naryad-bench",
        endpoint_url=endpoint,
        access_key_id="bench",
        secret_access_key="bench-secret",
    )

    async def cached() -> object:
        return await store.presign_put(
            KEY, content_type="image/jpeg", size=1024, sha256_hex=DIGEST, expires_in=900
        )

    def build_client() -> S3Client:
        return new_client(
            endpoint_url=endpoint,
            region="us-east-1",
            access_key_id="bench",
            secret_access_key="bench-secret",
        )

    async def fresh() -> object:
        # The same presigning code, only with a client built for this one URL.
        client = await anyio.to_thread.run_sync(build_client)
        one_off = S3BlobStore("naryad-bench", endpoint_url=endpoint, client=client)
        return await one_off.presign_put(
            KEY, content_type="image/jpeg", size=1024, sha256_hex=DIGEST, expires_in=900
        )

    with tempfile.TemporaryDirectory() as root:
        local = LocalBlobStore(root, signing_key="bench" * 8, public_base_url="http://bench")

        async def hmac_url() -> object:
            return await local.presign_put(
                KEY, content_type="image/jpeg", size=1024, sha256_hex=DIGEST
            )

        cases: dict[str, Callable[[], Awaitable[object]]] = {
            "shared client": cached,
            "client per URL": fresh,
            "local HMAC URL": hmac_url,
        }
        for step in cases.values():  # warm-up: model loading, first client, thread pool
            await step()
        samples: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(ROUNDS):
            for name, step in cases.items():
                samples[name].append(await _rate(step, ROUND_SECONDS))
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    """Print presigned URLs per second and the shared/new-client ratio."""
    rates = asyncio.run(run())
    print("storage: presigned PUT URLs per second (median of alternating rounds)")
    for name, rate in rates.items():
        print(f"  {name:<16} {rate:>10.0f} URLs/s")
    ratio = rates["shared client"] / rates["client per URL"]
    print(f"  shared client / client per URL: {ratio:.0f}x")


if __name__ == "__main__":
    main()

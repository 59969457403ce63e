"""The pure parts of the Idempotency-Key middleware: what is stored, which calls need a key."""

from __future__ import annotations

import gzip
import uuid

import msgspec

from mobile_api.idempotency import (
    LOCK_NAMESPACE,
    decoded_response,
    is_idempotent_post,
    lock_key,
    request_fingerprint,
)


def test_a_gzip_answer_is_stored_uncompressed_with_its_representation_headers() -> None:
    body = msgspec.json.encode({"results": [{"status": "applied"}] * 200})
    stored = decoded_response(
        201,
        [
            (b"content-type", b"application/json"),
            (b"Content-Encoding", b"gzip"),
            (b"content-length", b"123"),
            (b"vary", b"Accept-Encoding"),
            (b"etag", b'"v7"'),
            (b"location", b"/mobile/v1/photos/1"),
            (b"date", b"Fri, 04 Dec 2026 15:00:00 GMT"),
            (b"set-cookie", b"a=b"),
        ],
        gzip.compress(body),
    )
    assert stored.status == 201
    assert stored.body == body
    assert stored.headers == [
        ["content-type", "application/json"],
        ["etag", '"v7"'],
        ["location", "/mobile/v1/photos/1"],
    ]


def test_vary_keeps_what_is_not_about_compression() -> None:
    stored = decoded_response(
        200,
        [(b"vary", b"Accept-Language, accept-encoding"), (b"content-encoding", b"gzip")],
        gzip.compress(b"{}"),
    )
    assert stored.headers == [["vary", "Accept-Language"]]
    assert stored.body == b"{}"


def test_an_identity_answer_is_stored_as_sent() -> None:
    stored = decoded_response(200, [(b"content-type", b"application/json")], b'{"a":1}')
    assert stored.body == b'{"a":1}'
    assert stored.headers == [["content-type", "application/json"]]


def test_another_coding_is_kept_with_its_header_so_it_replays_as_sent() -> None:
    stored = decoded_response(200, [(b"content-encoding", b"br")], b"\x0b\x02\x80{}\x03")
    assert stored.body == b"\x0b\x02\x80{}\x03"
    assert stored.headers == [["content-encoding", "br"]]


def test_which_calls_need_a_key() -> None:
    assert is_idempotent_post("POST", "/mobile/v1/sync/push")
    assert is_idempotent_post("post", "/mobile/v1/photos/uploads")
    assert not is_idempotent_post("GET", "/mobile/v1/day")
    assert not is_idempotent_post("POST", "/mobile/v1/sign/token-abc")
    assert not is_idempotent_post("POST", "/api/v1/work-orders")


def test_lock_keys_are_per_user_and_key_in_their_own_namespace() -> None:
    user, other = uuid.uuid4(), uuid.uuid4()
    namespace, digest = lock_key(user, "k1")
    assert namespace == LOCK_NAMESPACE
    assert -(2**31) <= digest < 2**31  # fits PostgreSQL's int4 half of the lock key
    assert lock_key(user, "k1") == (namespace, digest)
    assert lock_key(other, "k1") != (namespace, digest)
    assert lock_key(user, "k2") != (namespace, digest)


def test_the_fingerprint_covers_path_and_body() -> None:
    base = request_fingerprint("POST", "/mobile/v1/sync/push", b"{}")
    assert base != request_fingerprint("POST", "/mobile/v1/photos/uploads", b"{}")
    assert base != request_fingerprint("POST", "/mobile/v1/sync/push", b"{ }")
    assert base == request_fingerprint("POST", "/mobile/v1/sync/push", b"{}")

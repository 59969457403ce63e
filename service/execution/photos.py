"""Photos go straight from the phone to the blob store; they count once their bytes check out.

Confirm reads the bytes back and checks size, SHA-256 and that they decode as the declared type
(HEIC: its container brand). Until the visit's act is frozen the technician can take a photo
back (removed) or put another in its place (replaced); either deletes the bytes.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

import anyio.to_thread
import msgspec
from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

import reports
from checklists import Location
from reports.i18n import label
from service.audit.services import record
from service.common.actor import Actor
from service.common.i18n import DEFAULT_LANGUAGE, Language, in_language, msg
from service.common.schemas import AwareDatetime
from service.db.base import utcnow
from service.db.models import Act, Photo, Visit
from service.db.models.visits import LIVE_STATUSES
from service.errors import Conflict, NotFound, ValidationFailed
from service.execution.images import PhotoMismatch, check_photo, is_embeddable
from service.execution.services import FieldworkService
from service.storage import BlobNotFound, BlobStore, photo_key
from service.visit_checklists.registry import TemplateRegistry

MAX_PHOTO_BYTES = 15 * 1024 * 1024
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/heic": "heic", "image/webp": "webp"}
PhotoType = Literal["image/jpeg", "image/png", "image/heic", "image/webp"]
Sha256 = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-fA-F]{64}$")]


class PhotoUploadRequest(msgspec.Struct, forbid_unknown_fields=True):
    """What the phone is about to upload."""

    visit_id: uuid.UUID
    sha256: Sha256
    size: Annotated[int, msgspec.Meta(ge=1, le=MAX_PHOTO_BYTES)]
    content_type: PhotoType
    step_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None
    taken_at: AwareDatetime | None = None
    location: Location | None = None


class UploadInstructions(msgspec.Struct):
    """Where to PUT the bytes, with the headers to send, before ``expires_at``."""

    url: str
    method: str
    headers: dict[str, str]
    expires_at: datetime


PhotoStatus = Literal["pending", "stored", "rejected", "expired", "removed", "replaced"]
RejectionCode = Literal["integrity", "not_declared_type"]
# ``found`` of a rejection whose size was right but whose SHA-256 was not.
OTHER_BYTES = "other bytes"

# A refused confirm told to the technician: what happened, then what to do.
_INCOMPLETE = msg(
    "photo.incomplete", "The photo did not arrive whole: the connection broke during the upload."
)
_DAMAGED = msg(
    "photo.damaged", "The photo arrived damaged: its bytes differ from the ones the phone sent."
)
_NOT_A_PHOTO = msg("photo.not_a_photo", "The server cannot read the file as a photo.")
_TAKE_AGAIN = msg("photo.take_again", "The upload was deleted: take the photo again.")


class PhotoRejection(msgspec.Struct):
    """Why confirm refused the bytes: the object is deleted, a new upload can take its place."""

    code: RejectionCode
    declared_type: str
    found: str
    detail: str


class PhotoView(msgspec.Struct):
    """A photo and where it stands."""

    id: uuid.UUID
    visit_id: uuid.UUID
    step_id: str | None
    status: PhotoStatus
    sha256: str
    size: int
    content_type: str
    expires_at: datetime
    upload: UploadInstructions | None = None
    status_reason: str | None = None
    replaced_by_id: uuid.UUID | None = None
    rejection: PhotoRejection | None = None


def photo_view(
    photo: Photo,
    upload: UploadInstructions | None = None,
    rejection: PhotoRejection | None = None,
) -> PhotoView:
    """Model to API schema."""
    return PhotoView(
        id=photo.id,
        visit_id=photo.visit_id,
        step_id=photo.step_id,
        status=photo.status,  # type: ignore[arg-type]
        sha256=photo.sha256,
        size=photo.size,
        content_type=photo.content_type,
        expires_at=photo.expires_at,
        upload=upload,
        status_reason=photo.status_reason,
        replaced_by_id=photo.replaced_by_id,
        rejection=rejection,
    )


def judge_bytes(data: bytes, *, size: int, sha256_hex: str, declared: str) -> PhotoRejection | None:
    """None when the bytes are the declared photo; else why not (CPU-bound: run in a thread)."""
    if len(data) != size:
        return PhotoRejection(
            code="integrity",
            declared_type=declared,
            found=f"{len(data)} bytes",
            detail=f"The upload holds {len(data)} bytes; {size} were declared",
        )
    if hashlib.sha256(data).hexdigest() != sha256_hex:
        return PhotoRejection(
            code="integrity",
            declared_type=declared,
            found=OTHER_BYTES,
            detail="The uploaded bytes do not match the declared SHA-256",
        )
    try:
        check_photo(data, declared)
    except PhotoMismatch as exc:
        return PhotoRejection(
            code="not_declared_type",
            declared_type=declared,
            found=exc.found,
            detail=f"The upload was declared {declared}, but the bytes are {exc.found} "
            f"({exc.reason})",
        )
    return None


def rejection_text(rejection: PhotoRejection, language: Language) -> str:
    """Why confirm refused the bytes and what to do, in the technician's language."""
    if rejection.code == "not_declared_type":
        what = _NOT_A_PHOTO
    else:
        what = _DAMAGED if rejection.found == OTHER_BYTES else _INCOMPLETE
    return f"{in_language(what, language)} {in_language(_TAKE_AGAIN, language)}"


def _stored_bytes_problem(data: bytes, photo: Photo) -> str | None:
    """Why a photo's stored bytes cannot be embedded in an act, or None when they can."""
    if hashlib.sha256(data).hexdigest() != photo.sha256:
        return "the stored bytes do not match the photo's SHA-256"
    if not is_embeddable(data):
        return f"the stored bytes do not decode as {photo.content_type}"
    return None


# Said after the engine's refusal when taking a photo back would leave a step short of photos.
REPLACE_INSTEAD = msg("sync.replace_photo_instead", "Replace the photo instead of removing it.")


class PhotoService:
    """Upload slots, and the confirm step that verifies size and SHA-256."""

    def __init__(
        self,
        session: AsyncSession,
        actor: Actor,
        registry: TemplateRegistry,
        store: BlobStore,
        url_ttl_seconds: int | None = None,
        language: Language = DEFAULT_LANGUAGE,
    ) -> None:
        self.session = session
        self.actor = actor
        self.store = store
        self.ttl = url_ttl_seconds
        self.language = language
        self.fieldwork = FieldworkService(session, actor, registry, language=language)

    async def start_upload(self, data: PhotoUploadRequest) -> PhotoView:
        """Reserve a photo on the technician's live visit and presign the PUT."""
        visit = await self.fieldwork.own_visit(data.visit_id)
        if visit.status not in ("planned", "en_route", "on_site"):
            raise Conflict(f"The visit is {visit.status}", code="visit_closed")
        photo_id = uuid.uuid4()
        now = utcnow()
        key = photo_key(photo_id, extension=EXTENSIONS[data.content_type], at=now)
        presigned = await self.store.presign_put(
            key,
            content_type=data.content_type,
            size=data.size,
            sha256_hex=data.sha256.lower(),
            expires_in=self.ttl,
        )
        photo = Photo(
            id=photo_id,
            visit_id=visit.id,
            technician_id=self.actor.technician_id,
            step_id=data.step_id,
            object_key=key,
            content_type=data.content_type,
            size=data.size,
            sha256=data.sha256.lower(),
            taken_at=data.taken_at,
            location=(
                f"SRID=4326;POINT({data.location.lon!r} {data.location.lat!r})"
                if data.location
                else None
            ),
            accuracy_m=data.location.accuracy_m if data.location else None,
            status="pending",
            created_at=now,
            # Unconfirmed uploads are removed by the worker once the URL can no longer be used.
            expires_at=presigned.expires_at + timedelta(minutes=15),
        )
        self.session.add(photo)
        await self.session.flush()
        return photo_view(
            photo,
            UploadInstructions(
                url=presigned.url,
                method=presigned.method,
                headers=dict(presigned.headers),
                expires_at=presigned.expires_at,
            ),
        )

    async def confirm(self, photo_id: uuid.UUID) -> PhotoView:
        """Check the uploaded bytes; a refusal deletes the object and marks the photo rejected.

        The bytes must have the declared size and SHA-256 and decode as the declared type.
        A rejected photo comes back with ``rejection`` set; the caller answers 422 but lets the
        transaction commit (the rejection and the deleted object are facts).
        """
        photo = await self._own(photo_id)
        if photo.status == "stored":
            return photo_view(photo)  # confirming twice is harmless
        if photo.status != "pending":
            raise Conflict(
                f"The photo is {photo.status}; upload it again", code="photo_" + photo.status
            )
        info = await self.store.head(photo.object_key)
        if info is None:
            raise Conflict("Nothing was uploaded yet", code="not_uploaded")
        rejection: PhotoRejection | None
        if info.size != photo.size:
            # Refused before reading: an object larger than declared is never downloaded.
            rejection = PhotoRejection(
                code="integrity",
                declared_type=photo.content_type,
                found=f"{info.size} bytes",
                detail=f"The upload holds {info.size} bytes; {photo.size} were declared",
            )
        else:
            try:
                data = await self.store.get(photo.object_key)  # the stores read off the loop
            except BlobNotFound as exc:
                raise Conflict("Nothing was uploaded yet", code="not_uploaded") from exc
            rejection = await anyio.to_thread.run_sync(
                lambda: judge_bytes(
                    data, size=photo.size, sha256_hex=photo.sha256, declared=photo.content_type
                )
            )
        if rejection is not None:
            await self.store.delete(photo.object_key)
            photo.status = "rejected"
            photo.status_reason = rejection.detail
            await self.session.flush()
            await record(
                self.session,
                self.actor,
                "photo.rejected",
                "photo",
                photo.id,
                after={"code": rejection.code, "reason": rejection.detail},
            )
            return photo_view(photo, rejection=rejection)
        photo.status = "stored"
        photo.confirmed_at = utcnow()
        await self.session.flush()
        return photo_view(photo)

    async def _own(self, photo_id: uuid.UUID) -> Photo:
        """The caller's photo, locked; another technician's answers as unknown."""
        photo = await self.session.scalar(
            select(Photo)
            .where(Photo.id == photo_id, Photo.technician_id == self.actor.technician_id)
            .with_for_update()
        )
        if photo is None:
            raise NotFound("Photo not found")
        return photo

    async def _require_open(self, visit: Visit, photo: Photo) -> None:
        """Photos change only on a live visit whose act is not frozen yet."""
        if photo.visit_id != visit.id:
            raise NotFound("Photo not found")
        if visit.status not in LIVE_STATUSES:
            raise Conflict(f"The visit is {visit.status}", code="visit_closed")
        frozen = await self.session.scalar(select(exists().where(Act.visit_id == visit.id)))
        if frozen:
            raise Conflict(
                "The act for this visit is frozen; its photos can no longer change",
                code="act_frozen",
            )

    async def remove(
        self, visit: Visit, photo_id: uuid.UUID, reason: str | None, at: datetime
    ) -> dict[str, Any]:
        """Take a photo back: it leaves every answer that used it, and its bytes are deleted."""
        photo = await self._own(photo_id)
        await self._require_open(visit, photo)
        if photo.status in ("removed", "replaced"):
            raise Conflict(f"The photo is already {photo.status}", code="photo_" + photo.status)
        await self._swap_in_answers(visit, photo.id, None, at)
        before = photo.status
        photo.status = "removed"
        photo.status_reason = reason
        photo.removed_at = utcnow()
        await self.session.flush()
        await record(
            self.session,
            self.actor,
            "photo.removed",
            "photo",
            photo.id,
            before={"status": before},
            after={"status": "removed", "reason": reason, "device_time": at},
        )
        # Last, after every check: a refused operation must not lose the bytes.
        await self.store.delete(photo.object_key)
        return {"photo_id": str(photo.id), "status": "removed"}

    async def replace(
        self, visit: Visit, photo_id: uuid.UUID, replacement_id: uuid.UUID, at: datetime
    ) -> dict[str, Any]:
        """Put a confirmed photo in another's place (in its answers too); the old bytes go."""
        if photo_id == replacement_id:
            raise ValidationFailed("A photo cannot replace itself", code="same_photo")
        photo = await self._own(photo_id)
        await self._require_open(visit, photo)
        if photo.status not in ("stored", "rejected", "pending"):
            raise Conflict(f"The photo is already {photo.status}", code="photo_" + photo.status)
        replacement = await self._own(replacement_id)
        if replacement.visit_id != visit.id:
            raise NotFound("Replacement photo not found")
        if replacement.status != "stored":
            raise Conflict(
                "The replacement must be uploaded and confirmed first",
                code="replacement_not_confirmed",
            )
        await self._swap_in_answers(visit, photo.id, replacement.id, at)
        before = photo.status
        photo.status = "replaced"
        photo.replaced_by_id = replacement.id
        photo.removed_at = utcnow()
        replacement.step_id = replacement.step_id or photo.step_id
        await self.session.flush()
        await record(
            self.session,
            self.actor,
            "photo.replaced",
            "photo",
            photo.id,
            before={"status": before},
            after={"status": "replaced", "replaced_by": replacement.id, "device_time": at},
        )
        await self.store.delete(photo.object_key)
        return {
            "photo_id": str(photo.id),
            "status": "replaced",
            "replaced_by_id": str(replacement.id),
        }

    async def _swap_in_answers(
        self, visit: Visit, old: uuid.UUID, new: uuid.UUID | None, at: datetime
    ) -> None:
        """Re-record each current answer that lists ``old`` (the engine checks the new one)."""
        checklists = self.fieldwork.checklists
        for answer in (await checklists.effective_answers(visit.id)).values():
            if str(old) not in answer.photo_ids:
                continue
            swapped = [
                p if p != str(old) else str(new) if new is not None else None
                for p in answer.photo_ids
            ]
            # dict.fromkeys: the replacement may already be in the answer; list it once.
            photo_ids = tuple(p for p in dict.fromkeys(swapped) if p is not None)
            try:
                await checklists.record(
                    visit,
                    msgspec.structs.replace(answer, photo_ids=photo_ids, answered_at=at),
                    lang=self.language,
                )
            except ValidationFailed as exc:
                if new is not None:
                    raise
                advice = in_language(REPLACE_INSTEAD, self.language)
                raise ValidationFailed(
                    f"{exc.detail} {advice}",
                    errors=exc.errors,
                    code=exc.code,
                ) from exc


MAX_ACT_PHOTOS = 30  # reports.ActSnapshot.photos holds at most this many


def photo_count_text(taken: int, heic: int, over_limit: int, lang: reports.Language) -> str:
    """How many photos were taken and which are not embedded, in the act's language."""
    parts = [label("photos.taken", lang, count=taken)]
    if heic:
        parts.append(label("photos.heic", lang, count=heic))
    if over_limit:
        parts.append(label("photos.over", lang, count=over_limit, limit=MAX_ACT_PHOTOS))
    return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class PhotosForAct:
    """What an act shows of a visit's photos: thumbnails, and a row when some are not shown."""

    embedded: list[Photo]
    note: str | None  # None when every photo taken is embedded
    skipped: list[tuple[Photo, str]]  # missing or undecodable bytes, with the reason


async def photos_for_act(
    store: BlobStore, stored: list[Photo], lang: reports.Language
) -> PhotosForAct:
    """Choose the photos an act embeds: only bytes that decode reach the renderer.

    Photos are read in order until the snapshot's limit is embeddable; each is hashed and
    decoded off the event loop and its bytes dropped at once. HEIC photos (never drawn) and any
    beyond the limit are counted from their content type, unread, in a note. A photo whose
    stored bytes are missing or do not decode is skipped and reported in ``skipped``; any other
    storage failure propagates (an outage must not freeze an act without photos).
    """
    embedded: list[Photo] = []
    skipped: list[tuple[Photo, str]] = []
    heic = over = 0
    for photo in stored:
        if photo.content_type == "image/heic":
            heic += 1
            continue
        if len(embedded) >= MAX_ACT_PHOTOS:
            over += 1
            continue
        try:
            data = await store.get(photo.object_key)
        except BlobNotFound:
            skipped.append((photo, "the stored object is missing"))
            continue
        problem = await anyio.to_thread.run_sync(_stored_bytes_problem, data, photo)
        del data
        if problem is None:
            embedded.append(photo)
        else:
            skipped.append((photo, problem))
    note = None
    if heic or over:
        note = photo_count_text(len(embedded) + over + heic, heic, over, lang)
    return PhotosForAct(embedded, note, skipped)


def photos_label(lang: reports.Language) -> str:
    """The act row's label for the photo count: the word of the act's photo section."""
    return label("section.photos", lang)

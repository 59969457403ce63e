"""Photos go straight from the phone to the blob store; they count once their bytes check out."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Literal

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from checklists import Location
from service.audit.services import record
from service.auth.actor import Actor
from service.common.schemas import AwareDatetime
from service.db.base import utcnow
from service.db.models import Photo
from service.errors import Conflict, NotFound
from service.execution.services import FieldworkService
from service.storage import BlobNotFound, BlobStore, IntegrityError, photo_key, verify_blob
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


class PhotoView(msgspec.Struct):
    """A photo and where it stands."""

    id: uuid.UUID
    visit_id: uuid.UUID
    step_id: str | None
    status: str
    sha256: str
    size: int
    content_type: str
    expires_at: datetime
    upload: UploadInstructions | None = None


def photo_view(photo: Photo, upload: UploadInstructions | None = None) -> PhotoView:
    """Model to API schema."""
    return PhotoView(
        id=photo.id,
        visit_id=photo.visit_id,
        step_id=photo.step_id,
        status=photo.status,
        sha256=photo.sha256,
        size=photo.size,
        content_type=photo.content_type,
        expires_at=photo.expires_at,
        upload=upload,
    )


class PhotoService:
    """Upload slots, and the confirm step that verifies size and SHA-256."""

    def __init__(
        self,
        session: AsyncSession,
        actor: Actor,
        registry: TemplateRegistry,
        store: BlobStore,
        url_ttl_seconds: int,
    ) -> None:
        self.session = session
        self.actor = actor
        self.store = store
        self.ttl = url_ttl_seconds
        self.fieldwork = FieldworkService(session, actor, registry)

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
        """Check the uploaded bytes; a mismatch deletes the object and marks the photo rejected."""
        photo = await self.session.scalar(
            select(Photo)
            .where(Photo.id == photo_id, Photo.technician_id == self.actor.technician_id)
            .with_for_update()
        )
        if photo is None:
            raise NotFound("Photo not found")
        if photo.status == "stored":
            return photo_view(photo)  # confirming twice is harmless
        if photo.status != "pending":
            raise Conflict(
                f"The photo is {photo.status}; upload it again", code="photo_" + photo.status
            )
        try:
            await verify_blob(
                self.store, photo.object_key, size=photo.size, sha256_hex=photo.sha256
            )
        except BlobNotFound as exc:
            raise Conflict("Nothing was uploaded yet", code="not_uploaded") from exc
        except IntegrityError as exc:
            await self.store.delete(photo.object_key)
            photo.status = "rejected"
            await self.session.flush()
            await record(
                self.session,
                self.actor,
                "photo.rejected",
                "photo",
                photo.id,
                after={"reason": str(exc)},
            )
            # The caller answers 422 but lets this transaction commit: the rejection is a fact.
            return photo_view(photo)
        photo.status = "stored"
        photo.confirmed_at = utcnow()
        await self.session.flush()
        return photo_view(photo)

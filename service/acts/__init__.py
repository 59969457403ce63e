"""Acts in the service: drafts with gapless numbers, signed and sealed PDFs, verification.

The mobile flow calls ``ActService`` (``snapshot_for`` -> ``create_draft`` -> ``sign``);
the back office reads acts through ``/api/v1/acts``; anyone holding an act's QR code reads its
public record at ``/verify/acts/{public_id}``.
"""

from service.acts.services import ActFilters, ActService, ActStorageFailed, find_public

__all__ = ["ActFilters", "ActService", "ActStorageFailed", "find_public"]

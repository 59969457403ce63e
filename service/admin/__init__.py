"""Operations for admins: the outbox's dead and pending messages, staff accounts."""

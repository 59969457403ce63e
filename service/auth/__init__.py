"""Authentication (JWT access + rotating refresh tokens), roles and scope."""

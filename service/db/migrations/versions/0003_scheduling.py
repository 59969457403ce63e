"""Scheduling: shifts, absences, slot policies, travel model, the four visit times.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 08:12:44.492763
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "slot_policies",
        sa.Column("work_type", sa.String(length=16), nullable=False),
        sa.Column("window_minutes", sa.Integer(), nullable=False),
        sa.Column("service_minutes", sa.Integer(), nullable=False),
        sa.Column("lead_minutes", sa.Integer(), server_default="60", nullable=False),
        sa.CheckConstraint(
            "service_minutes BETWEEN 10 AND 600", name=op.f("ck_slot_policies_service")
        ),
        sa.CheckConstraint(
            "window_minutes BETWEEN 30 AND 480", name=op.f("ck_slot_policies_window")
        ),
        sa.PrimaryKeyConstraint("work_type", name=op.f("pk_slot_policies")),
    )
    op.create_table(
        "technician_absences",
        sa.Column("technician_id", sa.Uuid(), nullable=False),
        sa.Column("period", postgresql.TSTZRANGE(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('day_off', 'vacation', 'sick_leave', 'training', 'other')",
            name=op.f("ck_technician_absences_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["technician_id"],
            ["technicians.id"],
            name=op.f("fk_technician_absences_technician_id_technicians"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_technician_absences")),
    )
    op.create_index(
        "ix_technician_absences_period",
        "technician_absences",
        ["technician_id", "period"],
        unique=False,
        postgresql_using="gist",
    )
    op.create_table(
        "technician_shifts",
        sa.Column("technician_id", sa.Uuid(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("starts", sa.Time(), nullable=False),
        sa.Column("ends", sa.Time(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("ends > starts", name=op.f("ck_technician_shifts_order")),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_technician_shifts_weekday")),
        sa.ForeignKeyConstraint(
            ["technician_id"],
            ["technicians.id"],
            name=op.f("fk_technician_shifts_technician_id_technicians"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_technician_shifts")),
    )
    op.create_index(
        "ix_technician_shifts_technician",
        "technician_shifts",
        ["technician_id", "weekday"],
        unique=False,
    )
    op.add_column(
        "technicians",
        sa.Column("time_zone", sa.String(length=64), server_default="Asia/Almaty", nullable=False),
    )
    op.add_column(
        "technicians", sa.Column("daily_capacity", sa.Integer(), server_default="6", nullable=False)
    )
    op.add_column(
        "territories",
        sa.Column("travel_speed_kmh", sa.Float(), server_default="30", nullable=False),
    )
    op.add_column(
        "territories", sa.Column("detour_factor", sa.Float(), server_default="1.4", nullable=False)
    )
    op.add_column("visits", sa.Column("agreed_with", sa.String(length=200), nullable=True))
    op.add_column("visits", sa.Column("agreement_channel", sa.String(length=16), nullable=True))
    op.add_column("visits", sa.Column("agreed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("visits", sa.Column("planned_start", sa.DateTime(timezone=True), nullable=True))
    op.add_column("visits", sa.Column("eta", sa.DateTime(timezone=True), nullable=True))
    op.add_column("visits", sa.Column("en_route_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("visits", sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("visits", sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("visits", sa.Column("last_change_reason", sa.String(length=40), nullable=True))
    op.add_column("visits", sa.Column("cancel_reason", sa.Text(), nullable=True))
    op.add_column(
        "visits", sa.Column("late_notified_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("visits", sa.Column("created_by", sa.Uuid(), nullable=True))
    op.create_index(
        "uq_visits_one_live_per_order",
        "visits",
        ["work_order_id"],
        unique=True,
        postgresql_where=sa.text("status IN ('planned', 'en_route', 'on_site')"),
    )
    op.create_foreign_key(
        op.f("fk_visits_created_by_users"), "visits", "users", ["created_by"], ["id"]
    )
    op.add_column(
        "work_orders", sa.Column("requested_window", postgresql.TSTZRANGE(), nullable=True)
    )
    op.create_check_constraint(
        "agreement_channel",
        "visits",
        "agreement_channel IS NULL OR agreement_channel IN ('phone', 'sms', 'in_person', 'portal')",
    )
    # Defaults an operator can change: promised-window width and work duration per work type.
    op.execute(
        """
        INSERT INTO slot_policies (work_type, window_minutes, service_minutes, lead_minutes) VALUES
            ('installation', 120, 90, 120),
            ('repair', 120, 60, 60),
            ('construction', 240, 180, 240),
            ('meter_check', 120, 30, 60)
        """
    )
    # Technicians work in the time zone of their (first) territory until told otherwise.
    op.execute(
        """
        UPDATE technicians t SET time_zone = tr.time_zone
        FROM technician_territories tt JOIN territories tr ON tr.id = tt.territory_id
        WHERE tt.technician_id = t.id
        """
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_visits_agreement_channel"), "visits", type_="check")
    op.drop_column("work_orders", "requested_window")
    op.drop_constraint(op.f("fk_visits_created_by_users"), "visits", type_="foreignkey")
    op.drop_index(
        "uq_visits_one_live_per_order",
        table_name="visits",
        postgresql_where=sa.text("status IN ('planned', 'en_route', 'on_site')"),
    )
    op.drop_column("visits", "created_by")
    op.drop_column("visits", "late_notified_at")
    op.drop_column("visits", "cancel_reason")
    op.drop_column("visits", "last_change_reason")
    op.drop_column("visits", "finished_at")
    op.drop_column("visits", "arrived_at")
    op.drop_column("visits", "en_route_at")
    op.drop_column("visits", "eta")
    op.drop_column("visits", "planned_start")
    op.drop_column("visits", "agreed_at")
    op.drop_column("visits", "agreement_channel")
    op.drop_column("visits", "agreed_with")
    op.drop_column("territories", "detour_factor")
    op.drop_column("territories", "travel_speed_kmh")
    op.drop_column("technicians", "daily_capacity")
    op.drop_column("technicians", "time_zone")
    op.drop_index("ix_technician_shifts_technician", table_name="technician_shifts")
    op.drop_table("technician_shifts")
    op.drop_index(
        "ix_technician_absences_period", table_name="technician_absences", postgresql_using="gist"
    )
    op.drop_table("technician_absences")
    op.drop_table("slot_policies")

"""Coordination: work-order event log, SLA policies, business calendars with holidays, SLA clocks,
ratings, and the overdue board's indexes; seeded default policies and KZ/RU calendars.

Revision ID: 0009
Revises: 0008

The seeded numbers are configuration, not law: the seeds give no repair deadlines
(DOMAIN.md), so the policies below are sensible starting points an administrator edits. Holiday
data is as published when this was written: Kazakhstan 2026 (government calendar with the
weekend transfers), Russia 2026 (decree No. 1466 of 24 September 2025). For 2027 the dates
follow the labour codes and their weekend rules (KZ Labour Code art. 84-85, RF Labour Code
art. 112); yearly government transfers (e.g. Russia's 2 and 3 January 2027) and the date of
Kurban Ait 2027 must be checked and edited through the admin API when published.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "status IN ('new', 'scheduled', 'in_progress', 'on_hold')"
WEEKDAYS_9_TO_18 = [{"weekday": d, "start": "09:00", "end": "18:00"} for d in range(5)]

KZ_ZONES = [
    "Asia/Almaty",
    "Asia/Qostanay",
    "Asia/Aqtobe",
    "Asia/Aqtau",
    "Asia/Atyrau",
    "Asia/Oral",
    "Asia/Qyzylorda",
]
RU_ZONES = [
    "Europe/Kaliningrad",
    "Europe/Moscow",
    "Europe/Kirov",
    "Europe/Volgograd",
    "Europe/Astrakhan",
    "Europe/Saratov",
    "Europe/Ulyanovsk",
    "Europe/Samara",
    "Asia/Yekaterinburg",
    "Asia/Omsk",
    "Asia/Novosibirsk",
    "Asia/Barnaul",
    "Asia/Tomsk",
    "Asia/Novokuznetsk",
    "Asia/Krasnoyarsk",
    "Asia/Irkutsk",
    "Asia/Chita",
    "Asia/Yakutsk",
    "Asia/Khandyga",
    "Asia/Vladivostok",
    "Asia/Ust-Nera",
    "Asia/Magadan",
    "Asia/Sakhalin",
    "Asia/Srednekolymsk",
    "Asia/Kamchatka",
    "Asia/Anadyr",
]

# (date, name, kind, shorten_minutes)
KZ_DAYS = [
    ("2026-01-01", "Новый год", "holiday", 0),
    ("2026-01-02", "Новый год", "holiday", 0),
    ("2026-01-07", "Православное Рождество", "holiday", 0),
    ("2026-03-08", "Международный женский день", "holiday", 0),
    ("2026-03-09", "Выходной (перенос с 8 марта)", "holiday", 0),
    ("2026-03-21", "Наурыз мейрамы", "holiday", 0),
    ("2026-03-22", "Наурыз мейрамы", "holiday", 0),
    ("2026-03-23", "Наурыз мейрамы", "holiday", 0),
    ("2026-03-24", "Выходной (перенос с 21 марта)", "holiday", 0),
    ("2026-03-25", "Выходной (перенос с 22 марта)", "holiday", 0),
    ("2026-05-01", "Праздник единства народа Казахстана", "holiday", 0),
    ("2026-05-07", "День защитника Отечества", "holiday", 0),
    ("2026-05-09", "День Победы", "holiday", 0),
    ("2026-05-11", "Выходной (перенос с 9 мая)", "holiday", 0),
    ("2026-05-27", "Курбан айт", "holiday", 0),
    ("2026-07-06", "День столицы", "holiday", 0),
    ("2026-08-30", "День Конституции", "holiday", 0),
    ("2026-08-31", "Выходной (перенос с 30 августа)", "holiday", 0),
    ("2026-10-25", "День Республики", "holiday", 0),
    ("2026-10-26", "Выходной (перенос с 25 октября)", "holiday", 0),
    ("2026-12-16", "День Независимости", "holiday", 0),
    ("2027-01-01", "Новый год", "holiday", 0),
    ("2027-01-02", "Новый год", "holiday", 0),
    ("2027-01-04", "Выходной (перенос со 2 января)", "holiday", 0),
    ("2027-01-07", "Православное Рождество", "holiday", 0),
    ("2027-03-08", "Международный женский день", "holiday", 0),
    ("2027-03-21", "Наурыз мейрамы", "holiday", 0),
    ("2027-03-22", "Наурыз мейрамы", "holiday", 0),
    ("2027-03-23", "Наурыз мейрамы", "holiday", 0),
    ("2027-03-24", "Выходной (перенос с 21 марта)", "holiday", 0),
    ("2027-05-01", "Праздник единства народа Казахстана", "holiday", 0),
    ("2027-05-03", "Выходной (перенос с 1 мая)", "holiday", 0),
    ("2027-05-07", "День защитника Отечества", "holiday", 0),
    ("2027-05-09", "День Победы", "holiday", 0),
    ("2027-05-10", "Выходной (перенос с 9 мая)", "holiday", 0),
    ("2027-05-16", "Курбан айт (дата уточняется)", "holiday", 0),
    ("2027-07-06", "День столицы", "holiday", 0),
    ("2027-08-30", "День Конституции", "holiday", 0),
    ("2027-10-25", "День Республики", "holiday", 0),
    ("2027-12-16", "День Независимости", "holiday", 0),
]
RU_DAYS = [
    *[(f"2026-01-0{d}", "Новогодние каникулы", "holiday", 0) for d in (1, 2, 3, 4, 5, 6, 8)],
    ("2026-01-07", "Рождество Христово", "holiday", 0),
    ("2026-01-09", "Выходной (перенос с 3 января)", "holiday", 0),
    ("2026-02-23", "День защитника Отечества", "holiday", 0),
    ("2026-03-08", "Международный женский день", "holiday", 0),
    ("2026-03-09", "Выходной (перенос с 8 марта)", "holiday", 0),
    ("2026-04-30", "Предпраздничный день", "short_day", 60),
    ("2026-05-01", "Праздник Весны и Труда", "holiday", 0),
    ("2026-05-08", "Предпраздничный день", "short_day", 60),
    ("2026-05-09", "День Победы", "holiday", 0),
    ("2026-05-11", "Выходной (перенос с 9 мая)", "holiday", 0),
    ("2026-06-11", "Предпраздничный день", "short_day", 60),
    ("2026-06-12", "День России", "holiday", 0),
    ("2026-11-03", "Предпраздничный день", "short_day", 60),
    ("2026-11-04", "День народного единства", "holiday", 0),
    ("2026-12-31", "Выходной (перенос с 4 января)", "holiday", 0),
    *[(f"2027-01-0{d}", "Новогодние каникулы", "holiday", 0) for d in (1, 2, 3, 4, 5, 6, 8)],
    ("2027-01-07", "Рождество Христово", "holiday", 0),
    ("2027-02-22", "Предпраздничный день", "short_day", 60),
    ("2027-02-23", "День защитника Отечества", "holiday", 0),
    ("2027-03-08", "Международный женский день", "holiday", 0),
    ("2027-04-30", "Предпраздничный день", "short_day", 60),
    ("2027-05-01", "Праздник Весны и Труда", "holiday", 0),
    ("2027-05-03", "Выходной (перенос с 1 мая)", "holiday", 0),
    ("2027-05-09", "День Победы", "holiday", 0),
    ("2027-05-10", "Выходной (перенос с 9 мая)", "holiday", 0),
    ("2027-06-11", "Предпраздничный день", "short_day", 60),
    ("2027-06-12", "День России", "holiday", 0),
    ("2027-06-14", "Выходной (перенос с 12 июня)", "holiday", 0),
    ("2027-11-03", "Предпраздничный день", "short_day", 60),
    ("2027-11-04", "День народного единства", "holiday", 0),
    ("2027-12-31", "Предпраздничный день", "short_day", 60),
]

# (name, work_type, priority, segment, area_kind, response, arrival, resolution, measure),
# minutes; business time is 09:00-18:00 on working days (540 minutes a day).
POLICIES = [
    ("По умолчанию", None, None, None, None, 480, 1620, 2700, "business"),
    ("Ремонт, низкий приоритет", "repair", "low", None, None, 540, 1620, 2700, "business"),
    ("Ремонт, обычный", "repair", "normal", None, None, 240, 1080, 1440, "business"),
    ("Ремонт, обычный, село", "repair", "normal", None, "rural", 480, 1620, 2160, "business"),
    ("Ремонт, высокий приоритет", "repair", "high", None, None, 120, 540, 960, "business"),
    ("Ремонт, срочный", "repair", "urgent", None, None, 60, 240, 480, "business"),
    ("Ремонт, срочный, село", "repair", "urgent", None, "rural", 60, 480, 960, "business"),
    ("Ремонт, срочный, B2B (24/7)", "repair", "urgent", "b2b", None, 30, 240, 480, "calendar"),
    ("Подключение", "installation", None, None, None, 540, 1080, 1620, "business"),
    ("Подключение, село", "installation", None, None, "rural", 540, 2160, 2700, "business"),
    (
        "Строительно-монтажные работы",
        "construction",
        None,
        None,
        None,
        1080,
        5400,
        10800,
        "business",
    ),
    ("Проверка прибора учёта", "meter_check", None, None, None, 540, 2700, 2700, "business"),
]


def _timestamps() -> list[sa.Column[object]]:
    return [
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
    ]


def upgrade() -> None:
    op.create_table(
        "work_order_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("work_order_id", sa.Uuid(), nullable=False),
        sa.Column("visit_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("actor_user_id", sa.Uuid(), nullable=True),
        sa.Column("actor_role", sa.String(length=20), nullable=True),
        sa.Column(
            "data", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_work_order_events_work_order_id_work_orders"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["visits.id"],
            name=op.f("fk_work_order_events_visit_id_visits"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_order_events")),
    )
    op.create_index(
        "ix_work_order_events_order", "work_order_events", ["work_order_id", "occurred_at", "id"]
    )
    op.create_index("ix_work_order_events_kind", "work_order_events", ["kind", "occurred_at"])

    op.create_table(
        "sla_policies",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("work_type", sa.String(length=16), nullable=True),
        sa.Column("priority", sa.String(length=8), nullable=True),
        sa.Column("segment", sa.String(length=3), nullable=True),
        sa.Column("area_kind", sa.String(length=8), nullable=True),
        sa.Column("response_minutes", sa.Integer(), nullable=False),
        sa.Column("arrival_minutes", sa.Integer(), nullable=False),
        sa.Column("resolution_minutes", sa.Integer(), nullable=False),
        sa.Column("measure", sa.String(length=8), nullable=False),
        sa.Column("warning_ratio", sa.Float(), server_default="0.8", nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        *_timestamps(),
        sa.CheckConstraint(
            "measure IN ('calendar', 'business')", name=op.f("ck_sla_policies_measure")
        ),
        sa.CheckConstraint(
            "area_kind IS NULL OR area_kind IN ('urban', 'rural')",
            name=op.f("ck_sla_policies_area_kind"),
        ),
        sa.CheckConstraint(
            "response_minutes > 0 AND arrival_minutes > 0 AND resolution_minutes > 0",
            name=op.f("ck_sla_policies_positive"),
        ),
        sa.CheckConstraint(
            "response_minutes <= arrival_minutes AND arrival_minutes <= resolution_minutes",
            name=op.f("ck_sla_policies_ordered"),
        ),
        sa.CheckConstraint(
            "warning_ratio > 0 AND warning_ratio < 1", name=op.f("ck_sla_policies_warning_ratio")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_policies")),
        sa.UniqueConstraint(
            "work_type",
            "priority",
            "segment",
            "area_kind",
            name="uq_sla_policies_key",
            postgresql_nulls_not_distinct=True,
        ),
    )

    op.create_table(
        "business_calendars",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("zones", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("hours", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_calendars")),
        sa.UniqueConstraint("code", name=op.f("uq_business_calendars_code")),
    )
    op.create_table(
        "holidays",
        sa.Column("calendar_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("shorten_minutes", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('holiday', 'short_day', 'working_day_transfer')",
            name=op.f("ck_holidays_kind"),
        ),
        sa.CheckConstraint("shorten_minutes BETWEEN 0 AND 720", name=op.f("ck_holidays_shorten")),
        sa.CheckConstraint(
            "kind <> 'holiday' OR shorten_minutes = 0",
            name=op.f("ck_holidays_holiday_not_shortened"),
        ),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["business_calendars.id"],
            name=op.f("fk_holidays_calendar_id_business_calendars"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holidays")),
        sa.UniqueConstraint("calendar_id", "day", name="uq_holidays_calendar_day"),
    )
    op.create_table(
        "territory_sla_profiles",
        sa.Column("territory_id", sa.Uuid(), nullable=False),
        sa.Column("calendar_id", sa.Uuid(), nullable=True),
        sa.Column("area_kind", sa.String(length=8), server_default="urban", nullable=False),
        sa.CheckConstraint(
            "area_kind IN ('urban', 'rural')", name=op.f("ck_territory_sla_profiles_area_kind")
        ),
        sa.ForeignKeyConstraint(
            ["territory_id"],
            ["territories.id"],
            name=op.f("fk_territory_sla_profiles_territory_id_territories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["business_calendars.id"],
            name=op.f("fk_territory_sla_profiles_calendar_id_business_calendars"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("territory_id", name=op.f("pk_territory_sla_profiles")),
    )
    op.create_table(
        "sla_clocks",
        sa.Column("work_order_id", sa.Uuid(), nullable=False),
        sa.Column("target", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("policy_id", sa.Uuid(), nullable=True),
        sa.Column("measure", sa.String(length=8), nullable=False),
        sa.Column("target_minutes", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("warning_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("breached_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paused_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resumes_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paused_minutes", sa.Integer(), nullable=False),
        sa.Column("remaining_minutes", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("next_change_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "target IN ('response', 'arrival', 'resolution')", name=op.f("ck_sla_clocks_target")
        ),
        sa.CheckConstraint(
            "status IN ('running', 'warning', 'paused', 'met', 'breached', 'cancelled')",
            name=op.f("ck_sla_clocks_status"),
        ),
        sa.CheckConstraint(
            "measure IN ('calendar', 'business')", name=op.f("ck_sla_clocks_measure")
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_sla_clocks_work_order_id_work_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["sla_policies.id"],
            name=op.f("fk_sla_clocks_policy_id_sla_policies"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("work_order_id", "target", name=op.f("pk_sla_clocks")),
    )
    op.create_index(
        "ix_sla_clocks_next_change",
        "sla_clocks",
        ["next_change_at"],
        postgresql_where=sa.text("next_change_at IS NOT NULL"),
    )
    op.create_index("ix_sla_clocks_settled", "sla_clocks", ["target", "settled_at"])

    op.create_table(
        "ratings",
        sa.Column("work_order_id", sa.Uuid(), nullable=False),
        sa.Column("visit_id", sa.Uuid(), nullable=True),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column(
            "confirmations",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("score BETWEEN 1 AND 5", name=op.f("ck_ratings_score")),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_ratings_work_order_id_work_orders"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["visits.id"],
            name=op.f("fk_ratings_visit_id_visits"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ratings")),
    )
    op.create_index("ix_ratings_created", "ratings", ["created_at"])
    op.create_index("ix_ratings_work_order", "ratings", ["work_order_id"])
    op.create_index(
        "uq_ratings_visit",
        "ratings",
        ["visit_id"],
        unique=True,
        postgresql_where=sa.text("visit_id IS NOT NULL"),
    )

    op.create_index(
        "ix_work_orders_open_deadline",
        "work_orders",
        ["control_deadline", "id"],
        postgresql_where=sa.text(OPEN),
    )
    op.create_index(
        "ix_work_orders_open_territory_deadline",
        "work_orders",
        ["territory_id", "control_deadline", "id"],
        postgresql_where=sa.text(OPEN),
    )

    op.create_index("ix_visits_created", "visits", ["created_at"])
    op.create_index(
        "ix_visits_arrived",
        "visits",
        ["arrived_at"],
        postgresql_where=sa.text("arrived_at IS NOT NULL"),
    )
    op.create_index(
        "ix_visits_finished",
        "visits",
        ["finished_at"],
        postgresql_where=sa.text("finished_at IS NOT NULL"),
    )

    _seed()


def _seed() -> None:
    calendars = sa.table(
        "business_calendars",
        sa.column("id", sa.Uuid()),
        sa.column("code", sa.String()),
        sa.column("name", sa.String()),
        sa.column("country", sa.String()),
        sa.column("zones", postgresql.ARRAY(sa.Text())),
        sa.column("hours", postgresql.JSONB()),
    )
    holidays = sa.table(
        "holidays",
        sa.column("id", sa.Uuid()),
        sa.column("calendar_id", sa.Uuid()),
        sa.column("day", sa.Date()),
        sa.column("name", sa.String()),
        sa.column("kind", sa.String()),
        sa.column("shorten_minutes", sa.SmallInteger()),
    )
    policies = sa.table(
        "sla_policies",
        sa.column("id", sa.Uuid()),
        sa.column("name", sa.String()),
        sa.column("work_type", sa.String()),
        sa.column("priority", sa.String()),
        sa.column("segment", sa.String()),
        sa.column("area_kind", sa.String()),
        sa.column("response_minutes", sa.Integer()),
        sa.column("arrival_minutes", sa.Integer()),
        sa.column("resolution_minutes", sa.Integer()),
        sa.column("measure", sa.String()),
    )
    for code, name, country, zones, days in (
        ("KZ", "Казахстан, пятидневка 09:00-18:00", "KZ", KZ_ZONES, KZ_DAYS),
        ("RU", "Россия, пятидневка 09:00-18:00", "RU", RU_ZONES, RU_DAYS),
    ):
        calendar_id = uuid.uuid4()
        op.bulk_insert(
            calendars,
            [
                {
                    "id": calendar_id,
                    "code": code,
                    "name": name,
                    "country": country,
                    "zones": zones,
                    "hours": WEEKDAYS_9_TO_18,
                }
            ],
        )
        op.bulk_insert(
            holidays,
            [
                {
                    "id": uuid.uuid4(),
                    "calendar_id": calendar_id,
                    "day": date.fromisoformat(day),
                    "name": label,
                    "kind": kind,
                    "shorten_minutes": shorten,
                }
                for day, label, kind, shorten in days
            ],
        )
    op.bulk_insert(
        policies,
        [
            {
                "id": uuid.uuid4(),
                "name": name,
                "work_type": work_type,
                "priority": priority,
                "segment": segment,
                "area_kind": area,
                "response_minutes": response,
                "arrival_minutes": arrival,
                "resolution_minutes": resolution,
                "measure": measure,
            }
            for name, work_type, priority, segment, area, response, arrival, resolution, measure in POLICIES
        ],
    )


def downgrade() -> None:
    op.drop_index(
        "ix_visits_finished",
        table_name="visits",
        postgresql_where=sa.text("finished_at IS NOT NULL"),
    )
    op.drop_index(
        "ix_visits_arrived", table_name="visits", postgresql_where=sa.text("arrived_at IS NOT NULL")
    )
    op.drop_index("ix_visits_created", table_name="visits")
    op.drop_index(
        "ix_work_orders_open_territory_deadline",
        table_name="work_orders",
        postgresql_where=sa.text(OPEN),
    )
    op.drop_index(
        "ix_work_orders_open_deadline", table_name="work_orders", postgresql_where=sa.text(OPEN)
    )
    op.drop_index(
        "uq_ratings_visit", table_name="ratings", postgresql_where=sa.text("visit_id IS NOT NULL")
    )
    op.drop_index("ix_ratings_work_order", table_name="ratings")
    op.drop_index("ix_ratings_created", table_name="ratings")
    op.drop_table("ratings")
    op.drop_index("ix_sla_clocks_settled", table_name="sla_clocks")
    op.drop_index(
        "ix_sla_clocks_next_change",
        table_name="sla_clocks",
        postgresql_where=sa.text("next_change_at IS NOT NULL"),
    )
    op.drop_table("sla_clocks")
    op.drop_table("territory_sla_profiles")
    op.drop_table("holidays")
    op.drop_table("business_calendars")
    op.drop_table("sla_policies")
    op.drop_index("ix_work_order_events_kind", table_name="work_order_events")
    op.drop_index("ix_work_order_events_order", table_name="work_order_events")
    op.drop_table("work_order_events")

"""A fixed data set (fixed ids, times and texts) whose read responses are kept as golden files.

Nothing here is random: the same rows give the same bytes from every version of the code, so
a rewrite of a read path is compared against what the previous code answered.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.passwords import hash_password


def fixed(n: int) -> uuid.UUID:
    """A recognisable fixed UUID."""
    return uuid.UUID(f"00000000-0000-4000-8000-{n:012d}")


TERRITORY = fixed(1)
DISPATCHER = fixed(2)
TECH_USER = fixed(3)
TECHNICIAN = fixed(4)
CUSTOMER = fixed(5)
PASSWORD = "golden-reads-password"
DISPATCHER_NAME = "golden-dispatcher"
TECH_NAME = "golden-tech"
DAY = date(2031, 3, 4)  # the technician's local day (Asia/Almaty) the visits fall on
ORDERS = 60  # more than one page of 50

STATEMENTS = [
    """INSERT INTO territories (id, code, name, time_zone, area) VALUES (:territory, 'GLD',
       'Golden', 'Asia/Almaty', ST_Multi(ST_MakeEnvelope(150.0, 60.0, 151.0, 61.0, 4326)))""",
    """INSERT INTO users (id, username, password_hash, role, full_name) VALUES
       (:dispatcher, :dispatcher_name, :password_hash, 'dispatcher', 'Golden Dispatcher'),
       (:tech_user, :tech_name, :password_hash, 'technician', 'Golden Tech')""",
    "INSERT INTO user_territories VALUES (:dispatcher, :territory)",
    """INSERT INTO technicians (id, user_id, full_name, phone, skills, home_base, time_zone)
       VALUES (:technician, :tech_user, 'Golden Tech', '+77010000001', '{repair,installation}',
               ST_SetSRID(ST_MakePoint(150.5, 60.5), 4326)::geography, 'Asia/Almaty')""",
    "INSERT INTO technician_territories VALUES (:technician, :territory)",
    """INSERT INTO customers (id, territory_id, full_name, phones, preferred_language,
                              accessibility_needs)
       VALUES (:customer, :territory, 'Нұрланова Әлия', '{+77011234567,+77017654321}', 'kk',
               '{wheelchair}')""",
    """INSERT INTO sites (id, customer_id, territory_id, address, location, access_notes)
       SELECT ('00000000-0000-4000-8001-' || lpad(g::text, 12, '0'))::uuid, :customer,
              :territory, 'пр. Абая, ' || g,
              ST_SetSRID(ST_MakePoint(150.1 + g * 0.01, 60.1 + g * 0.005), 4326)::geography,
              CASE WHEN g % 2 = 0 THEN 'Код домофона ' || g END
       FROM generate_series(1, 6) g""",
    """INSERT INTO work_orders (id, number, type, priority, status, description,
         requested_services, required_skills, equipment, contact_phones, customer_id, site_id,
         territory_id, control_deadline, cancel_reason, hold_reason, version, created_at,
         updated_at)
       SELECT ('00000000-0000-4000-8002-' || lpad(g::text, 12, '0'))::uuid,
         'WO-G-' || lpad(g::text, greatest(4, length(g::text)), '0'),
         (ARRAY['installation','repair','construction','meter_check'])[1 + g % 4],
         (ARRAY['low','normal','high','urgent'])[1 + g % 4],
         (ARRAY['new','scheduled','in_progress','completed','closed','cancelled','on_hold'])
           [1 + g % 7],
         'Заявка № ' || g || E' — "кавычки" и \\\\ слэш',
         CASE WHEN g % 3 = 0 THEN '{}'::text[] ELSE ARRAY['Подключение', 'Настройка ' || g] END,
         ARRAY['repair'],
         CASE WHEN g % 2 = 0 THEN '[]'::jsonb ELSE jsonb_build_array(jsonb_build_object(
           'name', 'Роутер', 'model', 'AX' || g, 'serial', NULL, 'quantity', 1.5,
           'unit', 'pcs')) END,
         CASE WHEN g % 5 = 0 THEN '{}'::varchar[] ELSE ARRAY['+7701000' || lpad(g::text, 4, '0')]
              END,
         :customer, ('00000000-0000-4000-8001-' || lpad((1 + g % 6)::text, 12, '0'))::uuid,
         :territory,
         CASE WHEN g % 4 = 0 THEN NULL
              WHEN g % 4 = 1 THEN timestamptz '2020-01-01 10:00+00' + g * interval '1 hour'
              ELSE timestamptz '2099-01-01 10:00+00' + g * interval '1 hour' END,
         CASE WHEN g % 7 = 5 THEN 'Клиент отказался' END,
         CASE WHEN g % 7 = 6 THEN 'Ждём запчасть' END,
         1 + g % 3,
         timestamptz '2030-01-01 00:00:00.123456+00' + g * interval '17 minutes',
         timestamptz '2030-02-01 00:00+00' + g * interval '1 second'
       FROM generate_series(1, :orders) g""",
    # Five visits on the golden day, out of creation order; one cancelled (not in the day).
    """INSERT INTO visits (id, work_order_id, technician_id, agreed_window, planned_start,
                           status, version, created_at, updated_at)
       SELECT ('00000000-0000-4000-8003-' || lpad(g::text, 12, '0'))::uuid,
              ('00000000-0000-4000-8002-' || lpad(g::text, 12, '0'))::uuid, :technician,
              tstzrange(timestamptz '2031-03-04 09:00+05' + ((g * 7) % 6) * interval '1 hour',
                        timestamptz '2031-03-04 09:40+05' + ((g * 7) % 6) * interval '1 hour'),
              CASE WHEN g % 2 = 0 THEN timestamptz '2031-03-04 08:30+05' + g * interval '1 hour'
                   END,
              CASE WHEN g = 6 THEN 'cancelled' ELSE 'planned' END, g,
              timestamptz '2030-03-01 00:00+00', timestamptz '2030-03-01 00:00+00'
       FROM generate_series(1, 6) g""",
    # Pinned to the template files' version 2: tests that run earlier may publish newer ones.
    """INSERT INTO visit_checklists (visit_id, template_key, template_version, content_hash,
                                     pinned_at)
       SELECT v.id, t.key, t.version, t.content_hash, timestamptz '2030-03-01 00:00+00'
       FROM visits v
       JOIN work_orders o ON o.id = v.work_order_id
       JOIN checklist_templates t ON t.key = o.type AND t.version = 2
       WHERE v.technician_id = :technician""",
]


async def insert(session: AsyncSession, orders: int = ORDERS) -> None:
    """The fixed rows (committed by the caller); a second call in the same database is a no-op.

    ``orders`` above the default adds orders after the golden ones (for `make bench`).
    """
    if await session.scalar(text("SELECT 1 FROM territories WHERE id = :t"), {"t": TERRITORY}):
        return
    params: dict[str, Any] = {
        "territory": TERRITORY,
        "dispatcher": DISPATCHER,
        "tech_user": TECH_USER,
        "technician": TECHNICIAN,
        "customer": CUSTOMER,
        "dispatcher_name": DISPATCHER_NAME,
        "tech_name": TECH_NAME,
        "password_hash": hash_password(PASSWORD),
        "orders": orders,
    }
    for statement in STATEMENTS:
        await session.execute(text(statement), params)

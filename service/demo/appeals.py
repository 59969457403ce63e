"""Demo appeals: one in every state a coordinator works with, made through the appeal services
(deadlines from policy, numbers, audit, the letter rendered and stored) like real ones.

Added once: a database that already holds appeals gets none, so seeding twice changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.appeals import schemas
from service.appeals.letters import LetterService
from service.appeals.services import AppealCore, AppealService, NewAppeal
from service.common.actor import Actor, Role
from service.db.base import utcnow
from service.db.models import Appeal, Customer, Territory, User, WorkOrder
from service.settings import Settings
from service.storage import build_blob_store


async def seed_appeals(session: AsyncSession, settings: Settings) -> int:
    """Create the demo appeals unless any appeal exists; returns how many were created."""
    if await session.scalar(select(exists().where(Appeal.id.is_not(None)))):
        return 0
    users = {
        u.username: u
        for u in await session.scalars(
            select(User).where(User.username.in_(["coordinator", "supervisor", "dispatcher-ala"]))
        )
    }
    territories = {t.code: t for t in await session.scalars(select(Territory))}
    if len(users) < 3 or not {"ALA", "NQZ"} <= set(territories):
        return 0  # not the demo database
    every = frozenset(t.id for t in territories.values())
    ala = territories["ALA"]
    store = build_blob_store(settings)
    coordinator = AppealService(
        session, Actor(users["coordinator"].id, Role.COORDINATOR, every), settings, store
    )
    dispatcher = AppealService(
        session,
        Actor(users["dispatcher-ala"].id, Role.DISPATCHER, frozenset({ala.id})),
        settings,
        store,
    )
    orders = (
        await session.execute(
            select(WorkOrder.id, Customer.full_name, Customer.phones)
            .join(Customer, Customer.id == WorkOrder.customer_id)
            .where(WorkOrder.territory_id == ala.id, WorkOrder.status.in_(["completed", "closed"]))
            .order_by(WorkOrder.number)
            .limit(3)
        )
    ).all()
    now = utcnow()

    def ago(**delta: float) -> datetime:
        return now - timedelta(**delta)

    # 1. A new question from the public form, nobody's yet.
    await AppealCore(session, settings, store).create(
        NewAppeal(
            kind="question",
            channel="web",
            territory_id=territories["NQZ"].id,
            author_name="Сейтқали Дана Ерланқызы",
            text="Подскажите, можно ли перенести подключение на субботу?",
            reply_channel="sms",
            language="ru",
            contact_phone="+77015550101",
            registered_at=ago(hours=3),
        ),
        None,
    )

    # 2. A complaint taken on the phone by the territory's dispatcher, in work: the coordinator
    # took it, asked the warehouse, found it justified and set a measure for the head of unit.
    order_id, name, phones = orders[0]
    complaint = await dispatcher.register(
        schemas.AppealCreate(
            kind="complaint",
            channel="phone",
            territory_id=ala.id,
            author_name=name,
            text="Мастер опоздал на три часа и не предупредил. Прошу разобраться.",
            contact_phone=phones[0],
            work_order_id=order_id,
            registered_at=ago(days=2),
        )
    )
    await coordinator.update(complaint.id, schemas.AppealUpdate(owner_id=users["coordinator"].id))
    await coordinator.add_request(
        complaint.id,
        schemas.UnitRequestCreate(
            unit="Служба выездных работ",
            question="Журнал выездов мастера за день визита",
            due_at=now + timedelta(days=2),
        ),
    )
    await coordinator.decide(
        complaint.id,
        schemas.DecisionCreate(
            decision="justified",
            reasons="Опоздание подтверждено журналом выездов; клиента не предупредили.",
            reason_codes=["missed_visit"],
        ),
    )
    await coordinator.add_measure(
        complaint.id,
        schemas.MeasureCreate(
            description="Инструктаж мастера: предупреждать клиента о задержке",
            owner_id=users["supervisor"].id,
            due_at=now + timedelta(days=4),
        ),
    )
    await coordinator.add_note(
        complaint.id, schemas.NoteCreate(text="Позвонила клиенту, извинилась, жду журнал.")
    )

    # 3. A complaint found partly justified, answered with a letter.
    order_id, name, phones = orders[1]
    claim = await dispatcher.register(
        schemas.AppealCreate(
            kind="complaint",
            channel="phone",
            territory_id=ala.id,
            author_name=name,
            text="После ремонта интернет пропадает по вечерам.",
            contact_phone=phones[0],
            work_order_id=order_id,
            registered_at=ago(days=4),
        )
    )
    await coordinator.decide(
        claim.id,
        schemas.DecisionCreate(
            decision="partly",
            reasons="Линия в порядке; роутер перегревается, его заменят бесплатно.",
        ),
    )
    await coordinator.add_measure(
        claim.id,
        schemas.MeasureCreate(
            description="Заменить роутер клиента",
            owner_id=users["coordinator"].id,
            due_at=now + timedelta(days=3),
        ),
    )
    await LetterService(coordinator, None).answer(
        claim.id,
        schemas.AnswerCreate(
            merits="Линия проверена и исправна. Роутер перегревается: мы заменим его "
            "бесплатно, мастер позвонит, чтобы согласовать время."
        ),
    )

    # 4. A repeat with no new facts, left unconsidered on that listed ground.
    order_id, name, phones = orders[2]
    repeat = await coordinator.register(
        schemas.AppealCreate(
            kind="request",
            channel="letter",
            territory_id=ala.id,
            author_name=name,
            text="Повторно прошу пересчитать стоимость подключения за прошлый год.",
            contact_phone=phones[0],
            work_order_id=order_id,
            registered_at=ago(days=1),
        )
    )
    await coordinator.refuse(
        repeat.id,
        schemas.AppealRefusal(
            ground="repeat_without_new_facts",
            note="Ответ на тот же вопрос дан ранее; новых доводов нет.",
        ),
    )

    # 5. A question past its deadline, still in work: the desk and the escalations show it.
    overdue = await coordinator.register(
        schemas.AppealCreate(
            kind="question",
            channel="office",
            territory_id=ala.id,
            author_name="Ахметова Гульнар Сериковна",
            text="Почему в счёте две строки за одно подключение?",
            contact_phone="+77015550177",
            registered_at=ago(days=10),
        )
    )
    await coordinator.update(overdue.id, schemas.AppealUpdate(owner_id=users["coordinator"].id))
    await coordinator.add_note(
        overdue.id, schemas.NoteCreate(text="Жду ответ бухгалтерии по счёту.")
    )
    return 5

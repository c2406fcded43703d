"""One switch for the bulletins by e-mail: the "bulletins" e-mail preference, off by default,
the same on the bulletins page, the e-mail settings page and the one-click link."""

from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from market.accounts.models import User
from market.alerts.models import EmailPreference, OutboxMessage
from market.bulletins import services
from market.extensions import db
from tests.bulletins.conftest import TODAY
from tests.conftest import log_in, make_test_app

BEFORE, AFTER = "a668f0ac0cd1", "8bb8d705e10f"


def _chosen(page: str, kind: str) -> str:
    select_html = re.search(rf'<select name="kind-{kind}".*?</select>', page, re.S).group(0)
    return re.search(r'<option value="(\w+)" selected>', select_html).group(1)


def _publish(app, official) -> int:
    with app.test_request_context():
        bulletin = services.draft_bulletin(actor=None, period="week", today=TODAY).bulletin
        queued = services.publish_bulletin(
            actor=db.session.get(User, official.id), bulletin=bulletin
        )
        db.session.commit()
        return queued


def test_a_user_who_never_subscribed_sees_bulletins_off(client, member) -> None:
    log_in(client, member)
    settings = client.get("/account/email").get_data(as_text=True)
    assert _chosen(settings, "bulletins") == "off"
    assert "Nhận bản tin qua e-mail" in client.get("/bulletins").get_data(as_text=True)


def test_turning_bulletins_on_in_the_settings_subscribes(
    client, app, prices, member, official
) -> None:
    log_in(client, member)
    response = client.post("/account/email", data={"kind-bulletins": "immediate"})
    assert response.status_code == 302
    assert _chosen(client.get("/account/email").get_data(as_text=True), "bulletins") == (
        "immediate"
    )
    archive = client.get("/bulletins").get_data(as_text=True)
    assert "Bạn đang nhận mỗi bản tin mới qua e-mail." in archive

    assert _publish(app, official) == 1
    with app.app_context():
        (message,) = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "bulletins")
        ).all()
        assert message.recipient == member.email


def test_the_bulletins_page_and_the_settings_page_agree(client, app, member) -> None:
    log_in(client, member)
    client.post("/bulletins/subscribe")
    assert _chosen(client.get("/account/email").get_data(as_text=True), "bulletins") == (
        "immediate"
    )
    client.post("/account/email", data={"kind-bulletins": "off"})
    assert "Nhận bản tin qua e-mail" in client.get("/bulletins").get_data(as_text=True)
    with app.app_context():
        assert services.subscribers() == []
    client.post("/bulletins/subscribe")
    client.post("/bulletins/unsubscribe")
    with app.app_context():
        rows = db.session.scalars(
            select(EmailPreference.frequency).where(
                EmailPreference.user_id == member.id, EmailPreference.kind == "bulletins"
            )
        ).all()
        assert rows == ["off"]  # one row, the one truth


def test_publishing_renders_no_commentary_per_subscriber(ctx, prices, official, monkeypatch):
    """The e-mail shows the table only: nothing in it needs the commentary rendered."""
    from tests.bulletins.test_publish import _draft, _subscriber, _user

    _subscriber("mot@example.com")
    _subscriber("hai@example.com")

    def render_markdown(text):
        raise AssertionError("the e-mail does not show the commentary")

    monkeypatch.setattr(services, "render_markdown", render_markdown)
    assert services.publish_bulletin(actor=_user(official), bulletin=_draft()) == 2


# The migration that made the preference the subscription --------------------------------------

users = sa.table(
    "user_account",
    sa.column("id", sa.Integer),
    sa.column("email", sa.String),
    sa.column("password_hash", sa.String),
    sa.column("name", sa.String),
    sa.column("locale", sa.String),
    sa.column("role", sa.String),
    sa.column("session_version", sa.Integer),
    sa.column("active", sa.Boolean),
    sa.column("created_at", sa.DateTime),
    sa.column("updated_at", sa.DateTime),
)
subscriptions = sa.table(
    "bulletin_subscription",
    sa.column("user_id", sa.Integer),
    sa.column("created_at", sa.DateTime),
)
preferences = sa.table(
    "email_preference",
    sa.column("user_id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("frequency", sa.String),
    sa.column("updated_at", sa.DateTime),
)


def test_the_migration_carries_subscriptions_into_preferences(tmp_path) -> None:
    fresh = make_test_app(tmp_path, f"sqlite:///{tmp_path / 'migrate.sqlite3'}")
    now = datetime(2026, 4, 1, 8, 0)  # stored naive (UTC) on SQLite
    # 1 subscribed, no preference row; 2 subscribed, turned off; 3 subscribed, immediate;
    # 4 never subscribed but the settings form saved "immediate"; 5 never subscribed, no row.
    with fresh.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as conn:
            conn.execute(
                users.insert(),
                [
                    {
                        "id": n,
                        "email": f"u{n}@example.com",
                        "password_hash": "x",
                        "name": f"U{n}",
                        "locale": "vi",
                        "role": "member",
                        "session_version": 1,
                        "active": True,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n in range(1, 6)
                ],
            )
            conn.execute(
                subscriptions.insert(), [{"user_id": n, "created_at": now} for n in (1, 2, 3)]
            )
            conn.execute(
                preferences.insert(),
                [
                    {"user_id": user_id, "kind": kind, "frequency": frequency, "updated_at": now}
                    for user_id, kind, frequency in (
                        (2, "bulletins", "off"),
                        (3, "bulletins", "immediate"),
                        (4, "bulletins", "immediate"),
                        (4, "price_alerts", "daily"),
                    )
                ],
            )

        upgrade(revision=AFTER)
        with db.engine.connect() as conn:
            chosen = dict(
                conn.execute(
                    select(preferences.c.user_id, preferences.c.frequency).where(
                        preferences.c.kind == "bulletins"
                    )
                ).all()
            )
            other = conn.execute(
                select(preferences.c.frequency).where(preferences.c.kind == "price_alerts")
            ).scalar_one()
            assert "bulletin_subscription" not in sa.inspect(conn).get_table_names()
        assert chosen == {1: "immediate", 2: "off", 3: "immediate", 4: "off"}
        assert other == "daily"  # other kinds are left alone

        downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            back = sorted(conn.execute(select(subscriptions.c.user_id)).scalars())
        assert back == [1, 3]
        db.engine.dispose()

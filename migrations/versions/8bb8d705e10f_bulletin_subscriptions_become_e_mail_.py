"""bulletin subscriptions become e-mail preferences

The "bulletins" e-mail preference is now the subscription itself (default off). Who received
the bulletins before still does, and nobody else starts to:

* a subscriber without a preference row gets "immediate" (the old default);
* a subscriber who had turned the kind off keeps "off";
* a non-subscriber whose row says anything but "off" (the e-mail settings form saves every
  kind, so many rows say "immediate" without anyone asking) gets "off".

Revision ID: 8bb8d705e10f
Revises: a668f0ac0cd1
Create Date: 2026-11-29 18:37:19.846557

"""
from alembic import op
import sqlalchemy as sa

import market.db


# revision identifiers, used by Alembic.
revision = '8bb8d705e10f'
down_revision = 'a668f0ac0cd1'
branch_labels = None
depends_on = None

KIND = "bulletins"

subscription = sa.table(
    "bulletin_subscription",
    sa.column("id", sa.Integer),
    sa.column("user_id", sa.Integer),
    sa.column("created_at", market.db.UTCDateTime(timezone=True)),
)
preference = sa.table(
    "email_preference",
    sa.column("id", sa.Integer),
    sa.column("user_id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("frequency", sa.String),
    sa.column("updated_at", market.db.UTCDateTime(timezone=True)),
)


def upgrade():
    conn = op.get_bind()
    conn.execute(
        preference.update()
        .where(
            preference.c.kind == KIND,
            preference.c.frequency != "off",
            preference.c.user_id.not_in(sa.select(subscription.c.user_id)),
        )
        .values(frequency="off")
    )
    has_row = sa.exists().where(
        preference.c.user_id == subscription.c.user_id, preference.c.kind == KIND
    )
    conn.execute(
        preference.insert().from_select(
            ["user_id", "kind", "frequency", "updated_at"],
            sa.select(
                subscription.c.user_id,
                sa.literal(KIND, sa.String),
                sa.literal("immediate", sa.String),
                subscription.c.created_at,
            ).where(~has_row),
        )
    )
    op.drop_table('bulletin_subscription')


def downgrade():
    op.create_table('bulletin_subscription',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', market.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_bulletin_subscription_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bulletin_subscription')),
    sa.UniqueConstraint('user_id', name=op.f('uq_bulletin_subscription_user_id'))
    )
    # Whoever has the bulletins on is a subscriber again; their preference row stays as it is.
    conn = op.get_bind()
    conn.execute(
        subscription.insert().from_select(
            ["user_id", "created_at"],
            sa.select(preference.c.user_id, preference.c.updated_at).where(
                preference.c.kind == KIND, preference.c.frequency != "off"
            ),
        )
    )

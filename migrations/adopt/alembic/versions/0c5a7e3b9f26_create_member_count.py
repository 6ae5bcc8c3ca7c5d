"""create member_count"""
from alembic import op

revision = "0c5a7e3b9f26"
down_revision = "b72e95d1c4a8"


def upgrade():
    op.execute("CREATE FUNCTION member_count(team integer) RETURNS bigint"
               " LANGUAGE sql STABLE"
               " AS $$ SELECT count(*) FROM members WHERE team_id = team $$")


def downgrade():
    op.execute("DROP FUNCTION member_count(integer)")

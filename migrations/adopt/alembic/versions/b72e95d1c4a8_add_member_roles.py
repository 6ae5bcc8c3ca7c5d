"""add member roles"""
from alembic import op
import sqlalchemy as sa

revision = "b72e95d1c4a8"
down_revision = "8e4d0c6f2a13"


def upgrade():
    op.add_column("members", sa.Column("role", sa.Text, nullable=False,
                                       server_default="member"))
    op.execute("CREATE VIEW team_sizes AS"
               " SELECT team_id, count(*) AS members FROM members GROUP BY team_id")


def downgrade():
    op.execute("DROP VIEW team_sizes")
    op.drop_column("members", "role")

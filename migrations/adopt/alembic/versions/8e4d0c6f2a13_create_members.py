"""create members"""
from alembic import op
import sqlalchemy as sa

revision = "8e4d0c6f2a13"
down_revision = "3f1c2a9b7d01"


def upgrade():
    op.create_table(
        "members",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id"), nullable=False),
        sa.Column("email", sa.Text, nullable=False),
    )
    op.create_index("members_team_id_idx", "members", ["team_id"])


def downgrade():
    op.drop_index("members_team_id_idx", table_name="members")
    op.drop_table("members")

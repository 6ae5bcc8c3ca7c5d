"""create teams"""
from alembic import op
import sqlalchemy as sa

revision = "3f1c2a9b7d01"
down_revision = None


def upgrade():
    op.create_table(
        "teams",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
    )


def downgrade():
    op.drop_table("teams")

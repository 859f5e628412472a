"""`make migration m="..."`: autogenerate an Alembic revision from the models.

Runs against a throw-away SQLite database at head, so the diff is exactly the model change.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command

from config import Settings
from models.migrate import MIGRATIONS_DIR, alembic_config, upgrade


def main(message: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{tmp}/scratch.db", WORLDDOOR_VAR_DIR=tmp)
        upgrade(settings)
        command.revision(alembic_config(settings), message=message, autogenerate=True)
    # Alembic renders JSONB's text type unqualified; qualify it so the file imports cleanly.
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        text = path.read_text()
        fixed = text.replace("astext_type=Text()", "astext_type=sa.Text()")
        if fixed != text:
            Path(path).write_text(fixed)


if __name__ == "__main__":
    main(" ".join(sys.argv[1:]) or "schema change")

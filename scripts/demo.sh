#!/usr/bin/env bash
# limbeck's main job on SQLite, from a fresh clone:
#
#     bash scripts/demo.sh
#
# Installs limbeck into .venv-demo (a local virtual environment), then walks a
# sample project in ./demo through init, revisions (a branch and a merge),
# upgrade, current, history, the ledger, an offline --sql script and
# downgrade. Needs only python3 >= 3.10; the database is a SQLite file.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
PYTHON=${PYTHON:-python3}
VENV=$ROOT/.venv-demo
DEMO=$ROOT/demo

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "$*"; "$@"; }

if [ ! -x "$VENV/bin/limbeck" ] || [ "$ROOT/pyproject.toml" -nt "$VENV/bin/limbeck" ]; then
    echo "Installing limbeck into $VENV ..."
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet "$ROOT"
fi
export PATH="$VENV/bin:$PATH"

rm -rf "$DEMO"
mkdir -p "$DEMO"
cd "$DEMO"

run limbeck --version
run limbeck init migrations

# The application's models (autogenerate reads them once it is configured).
cat > models.py <<'PY'
import sqlalchemy as sa

metadata = sa.MetaData()

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(50), nullable=False),
    sa.Column("email", sa.String(200)),
)
PY

write_upgrade() { # write_upgrade FILE UPGRADE_BODY DOWNGRADE_BODY
    "$VENV/bin/python" - "$@" <<'PY'
import sys

path, up, down = sys.argv[1:4]
text = open(path).read()
text = text.replace('    """Apply this revision."""\n    pass', '    """Apply this revision."""\n' + up, 1)
text = text.replace('    """Revert this revision."""\n    pass', '    """Revert this revision."""\n' + down, 1)
open(path, "w").write(text)
PY
}

run limbeck revision -m "create users" --rev-id 1a2b3c4d0001
write_upgrade migrations/versions/1a2b3c4d0001_create_users.py \
'    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(50), nullable=False),
    )' \
'    op.drop_table("users")'

run limbeck revision -m "add email" --rev-id 1a2b3c4d0002
write_upgrade migrations/versions/1a2b3c4d0002_add_email.py \
'    op.add_column("users", sa.Column("email", sa.String(200)))' \
'    op.drop_column("users", "email")'

# A second line of work from the first revision: a branch with a label.
run limbeck revision -m "create orders" --head 1a2b3c4d0001 --splice --branch-label shop --rev-id 1a2b3c4d0003
write_upgrade migrations/versions/1a2b3c4d0003_create_orders.py \
'    op.create_table(
        "orders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id")),
    )' \
'    op.drop_table("orders")'

run limbeck heads
run limbeck branches
run limbeck merge heads -m "join shop" --rev-id 1a2b3c4d0004
run limbeck history
run limbeck show shop@head

run limbeck upgrade head
run limbeck current -v
run limbeck history --applied
say "sqlite3 app.db .tables"
"$VENV/bin/python" -c "import sqlite3; print(sorted(r[0] for r in sqlite3.connect('app.db').execute(\"select name from sqlite_master where type='table'\")))"

run limbeck downgrade -1
run limbeck current
run limbeck downgrade base
run limbeck current
run limbeck upgrade head --sql

echo
echo "Done: the sample project is in $DEMO."

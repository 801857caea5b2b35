#!/usr/bin/env bash
# limbeck's main job on SQLite, from a fresh clone:
#
#     bash scripts/demo.sh
#
# Installs limbeck into .venv-demo (a local virtual environment), then walks a
# sample project in ./demo through init, autogenerate, upgrade, history, a
# change to the models, autogenerate again, upgrade, check, the ledger, an
# offline --sql script, a branch and a merge, and downgrade. Needs only
# python3 >= 3.10; the database is a SQLite file.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
PYTHON=${PYTHON:-python3}
VENV=$ROOT/.venv-demo
DEMO=$ROOT/demo

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "$*"; "$@"; }

if [ ! -x "$VENV/bin/limbeck" ] || [ -n "$(find "$ROOT/src" "$ROOT/pyproject.toml" -newer "$VENV/bin/limbeck" -print -quit)" ]; then
    echo "Installing limbeck into $VENV ..."
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet --force-reinstall --no-deps "$ROOT"
    "$VENV/bin/python" -m pip install --quiet "$ROOT"
    touch "$VENV/bin/limbeck"
fi
export PATH="$VENV/bin:$PATH"

rm -rf "$DEMO"
mkdir -p "$DEMO"
cd "$DEMO"

run limbeck --version
run limbeck init migrations

# The application's models, and env.py pointed at them.
cat > models.py <<'PY'
import sqlalchemy as sa

metadata = sa.MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(50), nullable=False),
)
PY
sed -i 's/^target_metadata = None$/from models import metadata as target_metadata/' migrations/env.py
say "edit migrations/env.py: target_metadata = models.metadata"
grep -n "target_metadata" migrations/env.py | head -1

run limbeck revision --autogenerate -m "create users" --rev-id 1a2b3c4d0001
run cat migrations/versions/1a2b3c4d0001_create_users.py
run limbeck upgrade head
run limbeck history

say "edit models.py: users.email, and an orders table"
cat >> models.py <<'PY'

users.append_column(sa.Column("email", sa.String(200), index=True))

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id"), nullable=False),
    sa.Column("total", sa.Numeric(10, 2), server_default="0"),
)
PY
run limbeck check || true
run limbeck revision --autogenerate -m "email and orders" --rev-id 1a2b3c4d0002
run limbeck upgrade head
run limbeck check
run limbeck current -v
run limbeck history --applied

# A second line of work, then a merge.
run limbeck revision -m "seed data" --head 1a2b3c4d0001 --splice --branch-label seed --rev-id 1a2b3c4d0003
run limbeck heads
run limbeck merge heads -m "join seed" --rev-id 1a2b3c4d0004
run limbeck history
run limbeck upgrade head
run limbeck upgrade head --sql

run limbeck downgrade -1
run limbeck current
run limbeck downgrade base
run limbeck current
say "sqlite3 app.db .tables"
"$VENV/bin/python" -c "import sqlite3; print(sorted(r[0] for r in sqlite3.connect('app.db').execute(\"select name from sqlite_master where type='table'\")))"

echo
echo "Done: the sample project is in $DEMO."

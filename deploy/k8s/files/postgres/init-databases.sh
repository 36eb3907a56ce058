#!/usr/bin/env bash
# Runs once, when the postgres:15 container initialises an empty data volume
# (mounted in /docker-entrypoint-initdb.d/). Creates one login role and one
# database per Accord component listed in ACCORD_DATABASES (set in
# compose.yaml), each with the password in /run/secrets/pg_password_<component>
# (made by prepare.py), and closes each database to every other role.
set -euo pipefail

for component in ${ACCORD_DATABASES:?set ACCORD_DATABASES, e.g. "hub rivertown_pd"}; do
    name="accord_${component}"
    password_file="/run/secrets/pg_password_${component}"
    if [[ ! -r "$password_file" ]]; then
        echo "init-databases: $password_file missing or unreadable" >&2
        exit 1
    fi
    # psql variables (:"name", :'password') quote the identifier and the literal.
    psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres \
        --set=name="$name" --set=password="$(cat "$password_file")" <<'SQL'
CREATE ROLE :"name" LOGIN PASSWORD :'password';
CREATE DATABASE :"name" OWNER :"name";
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
SQL
    echo "init-databases: created database and role $name"
done

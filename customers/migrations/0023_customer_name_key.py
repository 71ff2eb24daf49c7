"""The customer's name key (customers/name_keys.py) kept by PostgreSQL, for similar names.

A column `name_key` outside Django's model, set by a trigger on every insert and on every
change of the name (COPY included), so the duplicates query reads it instead of computing
the key for 100,000 names on each visit (70 µs each). SQLite computes the key in the query
through the Python function of the same name.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

IGNORED_WORDS = [
    *["ltd", "limited", "inc", "incorporated", "corp", "corporation", "co", "company"],
    *["llc", "llp", "plc", "gmbh", "ag", "pte", "pty", "the"],
    *["mr", "mrs", "ms", "miss", "dr", "prof"],
]

CREATE = f"""
CREATE OR REPLACE FUNCTION customer_name_key(name text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(string_agg(word, ' ' ORDER BY word COLLATE "C"), '')
  FROM regexp_split_to_table(lower(regexp_replace(coalesce(name, ''), '[^A-Za-z0-9]+', ' ', 'g')), ' ') AS word
  WHERE word <> '' AND word <> ALL ('{{{",".join(IGNORED_WORDS)}}}'::text[])
$$;
CREATE OR REPLACE FUNCTION customer_set_name_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.name_key := customer_name_key(NEW.name);
  RETURN NEW;
END $$;
ALTER TABLE customers_customer ADD COLUMN IF NOT EXISTS name_key text NOT NULL DEFAULT '';
CREATE TRIGGER customer_name_key_trigger BEFORE INSERT OR UPDATE OF name ON customers_customer
  FOR EACH ROW EXECUTE FUNCTION customer_set_name_key();
UPDATE customers_customer SET name_key = customer_name_key(name);
"""  # noqa: S608 - constants only

DROP = """
DROP TRIGGER IF EXISTS customer_name_key_trigger ON customers_customer;
ALTER TABLE customers_customer DROP COLUMN IF EXISTS name_key;
DROP FUNCTION IF EXISTS customer_set_name_key();
DROP FUNCTION IF EXISTS customer_name_key(text);
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("customers", "0022_timeline_indexes")]

    operations = [TrigramExtension(), migrations.RunPython(create, drop)]

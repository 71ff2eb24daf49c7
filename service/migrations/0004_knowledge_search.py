"""Full-text search of knowledge articles on PostgreSQL: a tsvector column kept by a trigger,
with a GIN index, so 10,000 articles search and rank in milliseconds.

The column is not a model field (SQLite has no tsvector; there the search uses icontains):
service.knowledge reads it by name. A trigger rather than a generated column, so later
migrations may still change the type of title or body. Ranking needs the vector of every
match; computing it from the text at query time costs ~0.3 ms per article, storing it none.
"""

from django.db import migrations

TABLE = "service_knowledgearticle"
VECTOR = (
    "setweight(to_tsvector('simple'::regconfig, coalesce({row}title, '')), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, coalesce({row}body, '')), 'B')"
)
CREATE = [
    f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS search_vector tsvector",
    f"""CREATE OR REPLACE FUNCTION knowledge_article_search_vector() RETURNS trigger AS $$
    BEGIN
        NEW.search_vector := {VECTOR.format(row="NEW.")};
        RETURN NEW;
    END $$ LANGUAGE plpgsql""",
    f"DROP TRIGGER IF EXISTS knowledge_article_search_vector ON {TABLE}",
    f"""CREATE TRIGGER knowledge_article_search_vector
    BEFORE INSERT OR UPDATE OF title, body ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION knowledge_article_search_vector()""",
    "DROP INDEX IF EXISTS knowledge_article_search_idx",
    f"CREATE INDEX knowledge_article_search_idx ON {TABLE} USING gin (search_vector)",
    # After the index: an index built after an update in the same transaction cannot be
    # used until every older transaction in the cluster has ended (pg_index.indcheckxmin).
    f"UPDATE {TABLE} SET search_vector = {VECTOR.format(row='')}",
]
DROP = [
    "DROP INDEX IF EXISTS knowledge_article_search_idx",
    f"DROP TRIGGER IF EXISTS knowledge_article_search_vector ON {TABLE}",
    "DROP FUNCTION IF EXISTS knowledge_article_search_vector()",
    f"ALTER TABLE {TABLE} DROP COLUMN IF EXISTS search_vector",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("service", "0003_sla_thresholds")]

    operations = [migrations.RunPython(_run(CREATE), _run(DROP))]

"""The open deals' totals and the order statistics create and drop their triggers with the
same SQL, to the letter, that migrations 0009, 0015 and 0017 ran: the shared builder
(crm/lib/triggers.py) changed where the statements are written, not what they say.
"""

import pytest

from sales import deal_totals, order_stats

DEAL_PG = [
    """CREATE TRIGGER sales_deal_open_totals_inserted AFTER INSERT ON sales_deal
    REFERENCING NEW TABLE AS new_deals
    FOR EACH STATEMENT EXECUTE FUNCTION sales_open_totals_inserted()""",
    """CREATE TRIGGER sales_deal_open_totals_updated AFTER UPDATE ON sales_deal
    REFERENCING OLD TABLE AS old_deals NEW TABLE AS new_deals
    FOR EACH STATEMENT EXECUTE FUNCTION sales_open_totals_updated()""",
    """CREATE TRIGGER sales_deal_open_totals_deleted AFTER DELETE ON sales_deal
    REFERENCING OLD TABLE AS old_deals
    FOR EACH STATEMENT EXECUTE FUNCTION sales_open_totals_deleted()""",
]
DEAL_PG_DROP = [
    "DROP TRIGGER IF EXISTS sales_deal_open_totals_inserted ON sales_deal",
    "DROP TRIGGER IF EXISTS sales_deal_open_totals_updated ON sales_deal",
    "DROP TRIGGER IF EXISTS sales_deal_open_totals_deleted ON sales_deal",
    "DROP FUNCTION IF EXISTS sales_open_totals_inserted()",
    "DROP FUNCTION IF EXISTS sales_open_totals_updated()",
    "DROP FUNCTION IF EXISTS sales_open_totals_deleted()",
]
DEAL_SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS sales_deal_open_totals_inserted",
    "DROP TRIGGER IF EXISTS sales_deal_open_totals_updated",
    "DROP TRIGGER IF EXISTS sales_deal_open_totals_deleted",
]
ORDER_PG = [
    """CREATE TRIGGER sales_order_stats_inserted AFTER INSERT ON sales_order
    REFERENCING NEW TABLE AS new_orders
    FOR EACH STATEMENT EXECUTE FUNCTION sales_order_stats_inserted()""",
    """CREATE TRIGGER sales_order_stats_updated AFTER UPDATE ON sales_order
    REFERENCING OLD TABLE AS old_orders NEW TABLE AS new_orders
    FOR EACH STATEMENT EXECUTE FUNCTION sales_order_stats_updated()""",
    """CREATE TRIGGER sales_order_stats_deleted AFTER DELETE ON sales_order
    REFERENCING OLD TABLE AS old_orders
    FOR EACH STATEMENT EXECUTE FUNCTION sales_order_stats_deleted()""",
    """CREATE TRIGGER sales_order_stats_truncated AFTER TRUNCATE ON sales_order
    FOR EACH STATEMENT EXECUTE FUNCTION sales_order_stats_truncated()""",
]
ORDER_PG_DROP = [
    "DROP TRIGGER IF EXISTS sales_order_stats_inserted ON sales_order",
    "DROP TRIGGER IF EXISTS sales_order_stats_updated ON sales_order",
    "DROP TRIGGER IF EXISTS sales_order_stats_deleted ON sales_order",
    "DROP TRIGGER IF EXISTS sales_order_stats_truncated ON sales_order",
    "DROP FUNCTION IF EXISTS sales_order_stats_inserted()",
    "DROP FUNCTION IF EXISTS sales_order_stats_updated()",
    "DROP FUNCTION IF EXISTS sales_order_stats_deleted()",
    "DROP FUNCTION IF EXISTS sales_order_stats_truncated()",
]
ORDER_SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS sales_order_stats_inserted",
    "DROP TRIGGER IF EXISTS sales_order_stats_updated",
    "DROP TRIGGER IF EXISTS sales_order_stats_deleted",
]


def test_the_deal_totals_triggers_are_created_and_dropped_as_before():
    assert deal_totals.POSTGRESQL[3:] == DEAL_PG  # after the three functions
    assert deal_totals.POSTGRESQL_DROP == DEAL_PG_DROP
    assert deal_totals.SQLITE_DROP == DEAL_SQLITE_DROP


@pytest.mark.parametrize("value", ["total", "total_reporting"])
def test_the_order_stats_triggers_are_created_and_dropped_as_before(value):
    assert order_stats._postgresql(value)[6:] == ORDER_PG  # after the six functions
    # Then the two helper functions the trigger functions call.
    assert order_stats.POSTGRESQL_DROP[:-2] == ORDER_PG_DROP
    assert order_stats.SQLITE_DROP == ORDER_SQLITE_DROP

"""The board's cards and the forecast read covering indexes on PostgreSQL (issue 18)."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_the_covering_indexes_of_the_board_and_the_forecast_exist():
    if connection.vendor != "postgresql":
        pytest.skip("INCLUDE indexes are PostgreSQL's; SQLite reads a window instead")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'sales_deal'")
        names = {row[0] for row in cursor.fetchall()}
    assert {"sales_deal_board_cards_cover", "sales_deal_closed_cover"} <= names
    # The forecast reads the open deals' totals (sales.deal_totals), not their index.
    assert not {"sales_deal_forecast_open_cover", "sales_deal_forecast_won_cover"} & names

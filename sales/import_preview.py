"""The preview of an open order import, analysed once and kept in the cache while its owner
looks at it (issue 13, point 8: the preview analysed the whole file on every page view).

The dry-run report is small once its bookkeeping sets are dropped: counts, the first
MAX_ERRORS errors, the sample rows and the unknown customers. Importing analyses the file
again, against the data as it is then, so a preview a few minutes old misleads nobody.
"""

import io

from django.core.cache import cache

from sales.import_services import order_import
from sales.importing import OrderImportReport
from sales.models import OrderImport

PREVIEW_SECONDS = 30 * 60


def order_import_preview_key(upload: OrderImport) -> str:
    """Its upload time too: ids start again in a restored or re-created database."""
    return f"order-import-preview:{upload.pk}:{upload.created_at.timestamp()}"


def order_import_preview_report(upload: OrderImport) -> OrderImportReport:
    """The dry-run report of a pending upload, from the cache when its owner saw it lately."""
    key = order_import_preview_key(upload)
    report = cache.get(key)
    if report is None:
        report = order_import(source=io.StringIO(upload.text, newline=""), dry_run=True)
        # Only needed while reading the file; a row set can hold every line of it.
        report._lines_with_errors = set()
        report._sample_by_line = {}
        cache.set(key, report, PREVIEW_SECONDS)
    return report

"""Mapping an uploaded file's columns to the import layout when its headers differ.

A file whose header names columns the layout does not know (“E-mail”, “Company name”,
“电话”) is held for its user (a CustomerImport row in the "mapping" status, for an hour:
the database, not the cache, so any worker process finds it) instead of being refused; the
mapping step offers, per file column, a layout column or “ignore”, with a guess, and
rewrites the file under the layout's names. The cells are copied as they are: the import
reads them exactly as it would have read the original file.
"""

import csv
import io
import re
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.lib.csv_import import ImportFileError, detect_delimiter
from customers.csv_format import COLUMNS
from customers.import_csv import LAYOUT
from customers.models import CustomerImport

HOLD_SECONDS = 3600
# The widest header the mapping step offers: one select per column, so a file with thousands
# of columns would make a page of thousands of selects (20,000 columns took 85 s to render).
MAX_COLUMNS = 100
_SYNONYMS = {
    "external_id": ["id", "externalid", "customerid", "customerno", "customernumber", "编号"],
    "name": [
        "fullname",
        "customer",
        "customername",
        "contactname",
        "姓名",
        "名称",
        "客户",
        "客户名称",
    ],
    "kind": ["type", "customertype", "类型"],
    "organization": ["company", "companyname", "organisation", "employer", "公司", "单位"],
    "email": ["mail", "emailaddress", "e-mail", "邮箱", "电子邮件", "电子邮箱"],
    "phone": ["tel", "telephone", "mobile", "cell", "phonenumber", "电话", "手机", "手机号"],
    "country": ["国家"],
    "region": ["province", "state", "county", "省", "省份", "地区"],
    "city": ["town", "城市"],
    "address": ["street", "streetaddress", "地址"],
    "industry": ["sector", "行业"],
    "company_size": ["size", "employees", "规模"],
    "source": ["leadsource", "来源"],
    "stage": ["lifecyclestage", "status", "阶段"],
    "owner": ["salesrep", "rep", "负责人"],
    "tags": ["tag", "labels", "标签"],
    "is_key_account": ["keyaccount", "key", "重点客户"],
    "preferred_channel": ["channel", "preferredchannel"],
}


def _normal(name: str) -> str:
    return re.sub(r"[\s_\-.:/]+", "", name.strip().lstrip("\ufeff").lower())


_GUESSES = {_normal(column): column for column in COLUMNS} | {
    _normal(synonym): column for column, synonyms in _SYNONYMS.items() for synonym in synonyms
}


def guess_column(header: str) -> str:
    """The layout column a file column probably holds, or "" (ignore)."""
    return _GUESSES.get(_normal(header), "")


def _records(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=detect_delimiter(text)))


def file_header(text: str) -> list[str]:
    """The file's first line, split into its column names (empty when there is none);
    ImportFileError when it cannot be read or has more than MAX_COLUMNS columns."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=detect_delimiter(text))
    try:
        header = next(reader, [])
    except csv.Error as error:  # e.g. a cell longer than the csv module's field limit
        raise ImportFileError(
            _("The first line of the file cannot be read as CSV column names.")
        ) from error
    if len(header) > MAX_COLUMNS:
        raise ImportFileError(
            _("The file has %(count)s columns; a file to import can have at most %(max)s.")
            % {"count": len(header), "max": MAX_COLUMNS}
        )
    return header


def needs_mapping(text: str) -> bool:
    """The header is there but is not the layout's (unknown, missing or repeated names)."""
    header = file_header(text)
    if not any(name.strip() for name in header):
        return False
    try:
        LAYOUT.check_header(header)
    except ImportFileError:
        return True
    return False


def remap(text: str, mapping: list[str]) -> str:
    """The file with its columns renamed by `mapping` (one name or "" per file column);
    the columns mapped to "" are left out."""
    keep = [index for index, name in enumerate(mapping) if name]
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    for number, record in enumerate(_records(text)):
        if number == 0:
            writer.writerow([mapping[index] for index in keep])
        elif any(cell.strip() for cell in record):
            writer.writerow([record[index] if index < len(record) else "" for index in keep])
    return out.getvalue()


def _held_of(user_id: int):
    return CustomerImport.objects.filter(user_id=user_id, status=CustomerImport.Status.MAPPING)


@transaction.atomic
def hold_upload(*, user_id: int, file_name: str, text: str) -> None:
    """Keep the file for its user's mapping step, in place of one held before."""
    _held_of(user_id).delete()
    CustomerImport.objects.create(
        user_id=user_id, file_name=file_name[:255], text=text, status=CustomerImport.Status.MAPPING
    )


def held_upload(user_id: int) -> dict | None:
    since = timezone.now() - timedelta(seconds=HOLD_SECONDS)
    held = _held_of(user_id).filter(created_at__gte=since).exclude(text="")
    return held.order_by("-pk").values("file_name", "text").first()


def release_upload(user_id: int) -> None:
    _held_of(user_id).delete()

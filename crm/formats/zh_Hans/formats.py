"""Django's zh_Hans formats, with numbers grouped by thousands as Chinese business software
prints amounts (Django's own: no separator, "97815" beside "33,549" on an English page)."""

from django.conf.locale.zh_Hans.formats import *  # noqa: F403

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3

"""The public ends of tracked campaign emails (marketing.tracking): the open pixel and
the click redirect.

No login (login_not_required): the signed token is the credential. Neither answer says
anything about the recipient: the pixel is the same GIF for everyone, the redirect goes
only to the URL signed into the token, with no Referer carrying the token onwards. A
token that is altered, cut short or made for another purpose is a 404 page.

Counting is rate-limited per client address (crm.lib.ratelimit): past the limit the pixel
and the redirect still answer (the reader must get their image and their page) but
nothing more is counted, so a script replaying one link cannot inflate the report.
"""

import base64

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from crm.lib.ratelimit import client_ip, rate_limit_hit
from marketing.services.feedback import recipient_clicked, recipient_opened
from marketing.tracking import read_click_token, read_open_token

# A transparent 1x1 GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
COUNTS_PER_MINUTE = 60  # per client address, opens and clicks each


def _bad_link(request):
    return render(request, "marketing/public/bad_link.html", status=404)


def _may_count(request, purpose: str) -> bool:
    return rate_limit_hit(
        purpose, client_ip(request), limit=COUNTS_PER_MINUTE, window=60, fail_open=True
    )


@login_not_required
@never_cache
@require_GET
def track_open(request, token):
    recipient_id = read_open_token(token)
    if recipient_id is None:
        return _bad_link(request)
    if _may_count(request, "track-open"):
        recipient_opened(recipient_id=recipient_id)
    response = HttpResponse(PIXEL, content_type="image/gif")
    response["Referrer-Policy"] = "no-referrer"
    return response


@login_not_required
@never_cache
@require_GET
def track_click(request, token):
    click = read_click_token(token)
    if click is None:
        return _bad_link(request)
    if _may_count(request, "track-click"):
        recipient_clicked(recipient_id=click.recipient_id)
    response = HttpResponseRedirect(click.url)
    response["Referrer-Policy"] = "no-referrer"
    return response

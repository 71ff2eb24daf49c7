"""The account's API tokens page: the user's own tokens, a new one (its secret shown once),
and revoking one. Admins see and revoke everyone's in Django admin."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from core.api_tokens import api_token_create, api_token_revoke, api_tokens_of
from core.forms import ApiTokenForm

# The new token's text waits here for the page the create redirects to, which removes it:
# a reload or the back button never shows it again, and a double click (the form's
# one-time token) makes one token.
NEW_TOKEN_SESSION_KEY = "crm_new_api_token"  # noqa: S105 - a session key name


@never_cache
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token, text = api_token_create(
            user=request.user,  # type: ignore[arg-type]
            name=form.cleaned_data["name"],
            scope=form.cleaned_data["scope"],
            expires_in_days=form.expires_in_days(),
            request=request,
        )
        request.session[NEW_TOKEN_SESSION_KEY] = {"pk": token.pk, "text": text}
        return redirect("api-tokens")
    new_token = request.session.pop(NEW_TOKEN_SESSION_KEY, None)
    context = {
        "form": form,
        "tokens": api_tokens_of(request.user),
        "new_token": new_token,
    }
    return render(request, "core/api_tokens.html", context, status=422 if form.errors else 200)


@require_POST
def api_token_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Only the owner's own tokens: another user's token is a 404, as if it did not exist."""
    token = get_object_or_404(api_tokens_of(request.user), pk=pk)
    api_token_revoke(token=token, by=request.user, request=request)  # type: ignore[arg-type]
    messages.success(request, _("The token “%(name)s” is revoked.") % {"name": token.name})
    return redirect("api-tokens")

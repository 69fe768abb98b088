from django.contrib.auth.decorators import login_required, permission_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from dealfinder.common.client_ip import client_ip
from sync.health import sync_health
from sync.lob_webhook_receive import lob_webhook_receive
from sync.lob_webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER
from sync.runs import ghl_pacer
from sync.webhooks import MAX_BODY_BYTES, ghl_webhook_receive


@login_required
@permission_required("sync.view_synclog", raise_exception=True)
@require_GET
def health(request):
    """Last push, pull, reconcile and webhook, drift, today's API budget, failures and refusals by reason."""
    return render(request, "sync/health.html", sync_health(pacer=ghl_pacer()))


@csrf_exempt
@require_POST
def ghl_webhook(request):
    """GoHighLevel webhook deliveries: signed, so no login and no CSRF token.

    Bodies over MAX_BODY_BYTES answer 413 before any parsing or signature check.
    """
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        return JsonResponse({"error": "payload too large"}, status=413)
    body = request.read(MAX_BODY_BYTES + 1)  # never more than the limit in memory, whatever was declared
    if len(body) > MAX_BODY_BYTES:
        return JsonResponse({"error": "payload too large"}, status=413)
    outcome = ghl_webhook_receive(
        body=body,
        ghl_signature=request.headers.get("x-ghl-signature", ""),
        wh_signature=request.headers.get("x-wh-signature", ""),
        client_ip=client_ip(request),
    )
    return JsonResponse(outcome.data, status=outcome.http_status, headers=outcome.headers)


@csrf_exempt
@require_POST
def lob_webhook(request):
    """Lob tracking events: signed (HMAC), so no login and no CSRF token."""
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        return JsonResponse({"error": "payload too large"}, status=413)
    outcome = lob_webhook_receive(
        body=body,
        signature=request.headers.get(SIGNATURE_HEADER, ""),
        timestamp=request.headers.get(TIMESTAMP_HEADER, ""),
        client_ip=client_ip(request),
    )
    return JsonResponse(outcome.data, status=outcome.http_status)

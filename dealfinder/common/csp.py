"""The Content-Security-Policy middleware (django-csp 4): the API docs pages get their extra sources."""

from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from csp.middleware import PolicyParts
from django.conf import settings

API_DOCS_PATHS = ("/api/docs/", "/api/redoc/")


class CSPMiddleware(BaseCSPMiddleware):
    """django-csp's middleware; the API docs pages (Swagger UI, Redoc) get API_DOCS_CSP_UPDATE on top."""

    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if not report_only and request.path_info.startswith(API_DOCS_PATHS):
            parts.update = {**settings.API_DOCS_CSP_UPDATE, **(parts.update or {})}
        return parts

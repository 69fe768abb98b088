"""The reporting views in admin: read-only lists, shown to the users who may view the data underneath."""

from django.contrib import admin

from .models import REPORTS


class ReportAdmin(admin.ModelAdmin):
    list_per_page = 50

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.has_perms(self.model.required_permissions)

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


for _model in REPORTS.values():
    _fields = [f.name for f in _model._meta.fields]
    admin.site.register(
        _model,
        type(
            f"{_model.__name__}Admin",
            (ReportAdmin,),
            {
                "list_display": _fields[:10],
                "readonly_fields": _fields,
                "date_hierarchy": _model.date_field,
            },
        ),
    )

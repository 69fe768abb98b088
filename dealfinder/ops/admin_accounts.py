"""Accounts in admin: users and groups bounded by role, API tokens (listed and revoked, never shown), and the
login lockouts of django-axes."""

from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group

from dealfinder.common.admin import fieldsets_without, register_with_action_permissions
from dealfinder.ops.models import ApiToken
from dealfinder.ops.roles import role_groups_assignable_by, users_manageable_by

SUPERUSER_ONLY_FIELDS = ("is_superuser", "user_permissions")


class RoleUserAdmin(UserAdmin):
    """Django's user admin; a non-superuser (the Admin role) manages only users within the roles it may assign,
    gives only those groups, and never sees `is_superuser` or `user_permissions`."""

    def get_queryset(self, request):
        users = super().get_queryset(request)
        if not self.has_view_or_change_permission(request):
            return users  # every page answers 403 to them, as for any model they may not see
        return users_manageable_by(request.user, users)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        return fieldsets if request.user.is_superuser else fieldsets_without(fieldsets, SUPERUSER_ONLY_FIELDS)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups":
            kwargs["queryset"] = role_groups_assignable_by(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class RoleGroupAdmin(GroupAdmin):
    """Groups are the roles `setup_roles` defines: anyone with `view_group` reads them, only superusers edit."""

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), RoleUserAdmin)
admin.site.unregister(Group)
admin.site.register(Group, RoleGroupAdmin)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Who holds which token since when, until when, last used when; deleting one revokes it at once."""

    list_display = ("token_start", "user", "description", "created", "expiry", "last_used_at")
    list_filter = ("created", "expiry", "last_used_at")
    list_select_related = ("user",)
    search_fields = ("user__username", "description")
    date_hierarchy = "created"
    fields = ("token_start", "user", "description", "created", "expiry", "last_used_at")
    readonly_fields = fields

    @admin.display(description="token starts with")
    def token_start(self, obj):
        return f"{obj.token_key[:10]}…"

    def has_add_permission(self, request):
        return False  # issued by `manage.py create_api_token`, which shows the token once

    def has_change_permission(self, request, obj=None):
        return False


# Third-party admins whose actions declare no permissions: a role that may only view runs none of them.
register_with_action_permissions(AccessAttempt, cleanup_expired_attempts=["delete"])

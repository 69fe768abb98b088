"""Admin for direct-mail campaigns, their pieces, verified addresses and local mail opt-outs."""

from django.contrib import admin
from django.db.models import Count, Q, Sum

from sync.mail_models import MailCampaign, MailOptOut, MailPiece, MailVerification

_CONTRACT = ["under_contract", "closed_won"]
_SENT = ~Q(pieces__status__in=[MailPiece.Status.SENDING, MailPiece.Status.FAILED, MailPiece.Status.CANCELLED])


@admin.register(MailCampaign)
class MailCampaignAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "slug",
        "piece_kind",
        "touch_days",
        "active",
        "sent",
        "delivered",
        "returned",
        "cost",
        "contacted",
        "contracts",
    )
    list_filter = ("active", "piece_kind")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_sent=Count("pieces", filter=_SENT),
                n_delivered=Count("pieces", filter=Q(pieces__status=MailPiece.Status.DELIVERED)),
                n_returned=Count("pieces", filter=Q(pieces__status=MailPiece.Status.RETURNED)),
                total_cost=Sum("pieces__cost", filter=_SENT),
                n_contacted=Count("pieces__lead", filter=_SENT & ~Q(pieces__lead__status="new"), distinct=True),
                n_contracts=Count("pieces__lead", filter=_SENT & Q(pieces__lead__status__in=_CONTRACT), distinct=True),
            )
        )

    @admin.display(ordering="n_sent")
    def sent(self, obj):
        return obj.n_sent

    @admin.display(ordering="n_delivered")
    def delivered(self, obj):
        return obj.n_delivered

    @admin.display(ordering="n_returned")
    def returned(self, obj):
        return obj.n_returned

    @admin.display(ordering="total_cost")
    def cost(self, obj):
        return obj.total_cost

    @admin.display(description="leads now past new", ordering="n_contacted")
    def contacted(self, obj):
        return obj.n_contacted

    @admin.display(description="under contract or closed", ordering="n_contracts")
    def contracts(self, obj):
        return obj.n_contracts


@admin.register(MailPiece)
class MailPieceAdmin(admin.ModelAdmin):
    list_display = ("campaign", "lead", "touch", "status", "lob_id", "expected_delivery_date", "cost", "sent_on")
    list_filter = ("status", "campaign")
    search_fields = ("lob_id", "idempotency_key")
    raw_id_fields = ("lead",)
    list_select_related = ("campaign", "lead__property")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(MailVerification)
class MailVerificationAdmin(admin.ModelAdmin):
    list_display = ("address_key", "deliverability", "mailable", "verified_at")
    list_filter = ("mailable", "deliverability")
    search_fields = ("address_key",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(MailOptOut)
class MailOptOutAdmin(admin.ModelAdmin):
    list_display = ("lead", "do_not_contact", "reason", "created_at")
    list_select_related = ("lead__property",)
    list_filter = ("do_not_contact",)
    raw_id_fields = ("lead",)

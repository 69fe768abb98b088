from rest_framework import serializers

from sync.models import SyncLog


class SyncLogSerializer(serializers.ModelSerializer):
    class Meta:
        model = SyncLog
        fields = (
            "id",
            "sync_type",
            "sync_run_id",
            "status",
            "processed",
            "succeeded",
            "failed",
            "skipped",
            "errors",
            "message",
            "started_at",
            "finished_at",
            "duration_seconds",
        )

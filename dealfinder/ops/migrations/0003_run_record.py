# PipelineRun shares the run record (dealfinder.common.models.RunRecord): its `error` becomes `message` (renamed,
# every row keeps its text) and it gains `errors`.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('dealfinder', '0002_api_tokens'),
    ]

    operations = [
        migrations.RenameField(
            model_name='pipelinerun',
            old_name='error',
            new_name='message',
        ),
        migrations.AlterField(
            model_name='pipelinerun',
            name='message',
            field=models.TextField(blank=True, help_text='Why the run failed or was skipped, or what it noted'),
        ),
        migrations.AddField(
            model_name='pipelinerun',
            name='errors',
            field=models.JSONField(blank=True, default=list, help_text='First errors, with what they were about'),
        ),
    ]

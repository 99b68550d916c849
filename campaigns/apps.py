from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "campaigns"
    verbose_name = "Salesforce Campaigns"

    def ready(self) -> None:
        # The sync engine knows nothing of this app: it calls the hooks registered here.
        from campaigns.engine.hooks import CampaignsHooks
        from sync.engine.extensions import register_campaign_hooks

        register_campaign_hooks(CampaignsHooks())

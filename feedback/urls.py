from django.urls import path

from .views import configuration, evidence, imports, inbox, item

app_name = "feedback"

urlpatterns = [
    # The list, its views and bulk actions (views/inbox.py)
    path("", inbox.index, name="index"),
    path("bulk/", inbox.bulk, name="bulk"),
    path("counts/", inbox.view_counts, name="view_counts"),
    path("views/", inbox.saved_view_create, name="saved_view_create"),
    path("views/<int:saved_view_id>/", inbox.saved_view_open, name="saved_view_open"),
    path("views/<int:saved_view_id>/delete/", inbox.saved_view_delete, name="saved_view_delete"),
    # One item (views/item.py)
    path("items/new/", item.item_create, name="item_create"),
    path("items/<int:feedback_item_id>/", item.item_detail, name="item_detail"),
    path("items/<int:feedback_item_id>/triage/", item.item_triage, name="item_triage"),
    path("items/<int:feedback_item_id>/notes/", item.item_note, name="item_note"),
    path("items/<int:feedback_item_id>/reply/", item.item_reply, name="item_reply"),
    path("items/<int:feedback_item_id>/call/", item.item_call, name="item_call"),
    path("items/<int:feedback_item_id>/close-loop/", item.item_close_loop, name="item_close_loop"),
    path("items/<int:feedback_item_id>/canned/<int:canned_reply_id>/", item.canned_reply_text,
         name="canned_reply_text"),
    path("customers/<int:customer_id>/profile/", item.customer_profile, name="customer_profile"),
    # Evidence for journey pain points (views/evidence.py)
    path("items/<int:feedback_item_id>/evidence/", evidence.item_evidence, name="item_evidence"),
    path("evidence/<int:painpointevidence_id>/delete/", evidence.evidence_delete, name="evidence_delete"),
    path("pain-points/<int:pain_point_id>/evidence/", evidence.pain_point_evidence, name="pain_point_evidence"),
    # Settings: teams, routing rules, SLA policies, canned replies, webhooks (views/configuration.py)
    path("settings/", configuration.settings_index, name="settings"),
    *[route
      for kind, id_name in (("teams", "team_id"), ("rules", "routingrule_id"), ("sla", "slapolicy_id"),
                            ("canned", "cannedreply_id"), ("webhooks", "webhookendpoint_id"),
                            ("loop", "closelooprule_id"), ("causes", "rootcause_id"),
                            ("tags", "tag_id"))
      for route in (
          path(f"settings/{kind}/new/", configuration.settings_create, {"kind": kind}, name=f"settings_{kind}_new"),
          path(f"settings/{kind}/<int:{id_name}>/", configuration.settings_edit, {"kind": kind},
               name=f"settings_{kind}_edit"),
          path(f"settings/{kind}/<int:{id_name}>/delete/", configuration.settings_delete, {"kind": kind},
               name=f"settings_{kind}_delete"),
      )],
    path("settings/loop/<int:closelooprule_id>/apply/", configuration.loop_rule_apply, name="loop_rule_apply"),
    # Import from CSV/XLSX (views/imports.py)
    path("import/", imports.upload, name="import"),
    path("import/<int:feedbackimportjob_id>/", imports.job_detail, name="import_detail"),
]

"""The pages' URLs. Every org page lives under /o/<slug>/: a person outside the org gets 404."""

from __future__ import annotations

from django.urls import path

from failbrief.pages import views, views_auth, views_settings

app_name = "pages"
SIGNATURE = "<str:signature>"
SETTINGS = "o/<slug:slug>/settings/"

urlpatterns = [
    path("", views_auth.home, name="home"),
    path("style.css", views_auth.stylesheet, name="stylesheet"),
    path("signin/", views_auth.signin, name="signin"),
    path("signout/", views_auth.signout, name="signout"),
    path("signup/<str:token>/", views_auth.signup, name="signup"),
    path("o/<slug:slug>/", views.failures, name="failures"),
    path("o/<slug:slug>/runs/<str:flow_run_id>/", views.run_page, name="run"),
    path("o/<slug:slug>/summaries/<int:summary_id>/regenerate", views.regenerate, name="regenerate"),
    path("o/<slug:slug>/summaries/<int:summary_id>/feedback", views.feedback, name="feedback"),
    path(f"o/<slug:slug>/recurring/{SIGNATURE}/", views.signature_page, name="signature"),
    path(f"o/<slug:slug>/recurring/{SIGNATURE}/note", views.signature_note, name="signature_note"),
    path(SETTINGS, views_settings.org_settings, name="settings"),
    path(SETTINGS + "llm", views_settings.llm, name="settings_llm"),
    path(SETTINGS + "webhook-key", views_settings.rotate_key, name="settings_rotate_key"),
    path(SETTINGS + "tokens", views_settings.new_token, name="settings_new_token"),
    path(
        SETTINGS + "tokens/<int:token_id>/revoke", views_settings.revoke_token, name="settings_revoke_token"
    ),
    path(SETTINGS + "channels", views_settings.new_channel, name="settings_new_channel"),
    path(SETTINGS + "channels/<slug:name>/test", views_settings.test_channel, name="settings_test_channel"),
    path(
        SETTINGS + "channels/<slug:name>/remove",
        views_settings.delete_channel,
        name="settings_remove_channel",
    ),
    path(SETTINGS + "prefect", views_settings.check_prefect, name="settings_check_prefect"),
]

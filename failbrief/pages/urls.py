"""The pages' URLs. Every org page lives under /o/<slug>/: a person outside the org gets 404."""

from __future__ import annotations

from django.urls import path

from failbrief.pages import views, views_auth

app_name = "pages"
SIGNATURE = "<str:signature>"

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
]

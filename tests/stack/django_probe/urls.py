from django.urls import include, path

from . import views

urlpatterns = [
    path("probe/body/", views.body),
    path("probe/form/", views.form),
    path("probe/secure/", views.secure),
    path("probe/cookies/", views.cookies),
    path("probe/slow/", views.slow),
    path("", include("mysite.urls")),
]

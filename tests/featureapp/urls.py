from django.urls import path

from casemgmt.access import CARE_STAFF_RULE
from tests.featureapp import views

app_name = "featureapp"
access_policy = {"notices": CARE_STAFF_RULE}

urlpatterns = [path("", views.notices, name="notices")]

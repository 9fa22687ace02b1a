app_name = "reports"
access_policy = {}
urlpatterns = []

def reports_panel(request):
    return None

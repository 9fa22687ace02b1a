"""A test-only feature app: one model, one view, one policy row, added without touching casemgmt.

It proves the platform's extension points (docs/adding-a-feature.md): its URLs, policy row, menu link and
home panel are registered from its AppConfig, its access-matrix case lives in its access_cases.py.
"""

"""Date formats: ISO dates and 24-hour times in every language, the administration site included.

The site's own templates already write ``Y-m-d``; these make Django's localised defaults (the
administration's lists and forms, ``{{ value }}`` of a date) say the same. Listed in
``FORMAT_MODULE_PATH``; Django looks here before its own locale formats.
"""

"""Roster import: a district's schools and people from a file its administrator uploads.

formats.py reads the two formats (the platform's own CSV, OneRoster 1.2 bulk CSV) into plain
records with their line numbers; plan.py compares them with the database (create, change,
link, deactivate, and every problem by file and line); services.py applies a plan; views.py
and cli.py are the page and the command over the same steps.
"""

"""``python -m outcomes.cli`` runs the command line."""

from .main import app

app()

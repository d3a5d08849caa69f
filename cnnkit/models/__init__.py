"""Models: ``from cnnkit.models import Sequential``."""

from cnnkit.models._sequential import Sequential as Sequential

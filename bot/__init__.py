"""Køge Erhvervsbot: the Danish business-service assistant's own Python package."""

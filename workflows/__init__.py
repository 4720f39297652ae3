"""Temporal workflows. Thin modules: decisions here, every side effect in activities/."""

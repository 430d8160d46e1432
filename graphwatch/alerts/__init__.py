"""Supervision models (监督模型) and, later, their alerts, verdicts and precision.

Today: :mod:`.library` reads pattern files (``patterns/*.yaml``) by id.
"""

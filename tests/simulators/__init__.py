"""Tests of the local simulators (KIE, Telegram)."""

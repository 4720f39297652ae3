"""The KIE callback receiver: verifies, parses tolerantly, signals the generation workflow, answers fast."""

"""Evaluation (评标): committee, scoring workflow, clarifications, the signed report."""

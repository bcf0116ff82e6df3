"""Orchestration: jobs that read the store, run analytics and write results (``analyze``,
audience exports). The CLI and the API call these; analytics never import them."""

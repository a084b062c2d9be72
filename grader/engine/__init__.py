"""One grade: read the sources, build each part's workspaces, run them, score the outcome."""

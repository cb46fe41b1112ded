"""The HTTP (FastAPI) and command-line edge, thin over geo/ and layers/."""

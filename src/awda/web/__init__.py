"""The FastAPI application factory and its shared plumbing."""

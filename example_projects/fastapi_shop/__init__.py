"""The FastAPI shop: ``uvicorn example_projects.fastapi_shop.app:app --workers 2``."""

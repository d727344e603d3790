"""The REST API (FastAPI): ``create_app`` builds the application; routes per resource under
``routes/``; ``deps`` authenticates and hands over the service; ``errors`` maps the service
layer's errors to status codes; ``limits`` enforces body sizes."""

from marsrelay.service.api.app import create_app

__all__ = ["create_app"]

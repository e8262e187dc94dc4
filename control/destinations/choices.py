from django.db import models


class HttpMethod(models.TextChoices):
    POST = "POST", "POST"
    PUT = "PUT", "PUT"
    PATCH = "PATCH", "PATCH"


class AuthType(models.TextChoices):
    """How the worker authenticates to the destination."""

    NONE = "none", "None"
    BASIC = "basic", "Basic (username and password)"
    BEARER = "bearer", "Bearer token"

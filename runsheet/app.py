"""The application factory: configuration, storage, services and transports wired together."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

from . import config as settings
from .plans import default_plan
from .services import Services
from .services.ceremony import CeremonyService
from .services.clock import SteadyClock
from .services.plans import ensure_token_hashes, install_plan
from .storage.store import Store, sqlite_url


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Create the runsheet app; ``config`` overrides settings read from the environment."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        static_folder=str(asset_folder("static")),
        template_folder=str(asset_folder("templates")),
    )
    app.config.update(settings.from_environment())
    if config:
        app.config.update(config)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config["SECRET_KEY"] = app.config.get("SECRET_KEY") or _instance_secret(app.instance_path)
    app.config["DATABASE_URL"] = app.config.get("DATABASE_URL") or sqlite_url(app.instance_path)
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"

    services = build_services(app.config)
    app.extensions["runsheet"] = services

    from .transports import register_transports

    register_transports(app)
    return app


PACKAGE_FOLDER = Path(__file__).resolve().parent


def asset_folder(name: str) -> Path:
    """Return the folder of the pages' ``static`` or ``templates`` files.

    They sit beside the package in a checkout (and so in an editable install), and inside
    it in an installed wheel, which carries them as ``runsheet/static`` and
    ``runsheet/templates`` (see pyproject.toml).
    """
    installed = PACKAGE_FOLDER / name
    if installed.is_dir():
        return installed
    return PACKAGE_FOLDER.parent / name


def build_services(config: Mapping[str, Any]) -> Services:
    """Open storage, make sure an event is loaded, and build the services."""
    store = Store.from_url(config["DATABASE_URL"])
    store.create_schema()
    clock = config.get("CLOCK") or SteadyClock()
    if store.active_event() is None:
        install_plan(store, default_plan(), config["SECRET_KEY"], clock())
    else:
        ensure_token_hashes(store, config["SECRET_KEY"], clock())
    ceremony = CeremonyService(
        store,
        clock=clock,
        presence_grace=timedelta(seconds=config["PRESENCE_GRACE_SECONDS"]),
        move_guard=timedelta(seconds=config["MOVE_GUARD_SECONDS"]),
    )
    base_url = config["BASE_URL"].rstrip("/")
    domain = config.get("CALENDAR_DOMAIN") or urlsplit(base_url).hostname or "runsheet.local"
    return Services(store, ceremony, config["SECRET_KEY"], base_url, domain)


def _instance_secret(instance_path: str) -> str:
    """Return the installation's secret key, generated once into the instance folder."""
    path = Path(instance_path) / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass  # made earlier, or by another process starting at the same moment
    else:
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(32))
    return path.read_text().strip()

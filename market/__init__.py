"""Quảng Trị agricultural market platform: the application factory."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from market.config import PROJECT_ROOT, load_settings

__all__ = ["create_app"]


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application; ``config`` overrides what the environment says (tests use it)."""
    settings = load_settings(config)
    instance = Path(settings["MARKET_INSTANCE_PATH"])
    app = Flask(
        "market",
        root_path=str(Path(__file__).parent),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(instance),
    )
    app.config.update(settings)
    instance.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    if proxies := int(app.config.get("MARKET_PROXY_COUNT") or 0):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    _init_extensions(app)
    _register_blueprints(app)

    from market import cli

    cli.register(app)
    return app


def _init_extensions(app: Flask) -> None:
    from market import models  # noqa: F401  - every model known to SQLAlchemy and Alembic
    from market.extensions import babel, csrf, db, limiter, login_manager, migrate
    from market.site.i18n import select_locale, select_timezone

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        timezone_selector=select_timezone,
        default_translation_directories=str(Path(__file__).parent / "translations"),
    )
    limiter.init_app(app)
    login_manager.init_app(app)


def _register_blueprints(app: Flask) -> None:
    from market.accounts.views import bp as accounts_bp
    from market.admin.views import bp as admin_bp
    from market.alerts.views import bp as alerts_bp
    from market.bulletins.api import bp as bulletins_api_bp
    from market.bulletins.views import bp as bulletins_bp
    from market.bulletins.views_admin import bp as bulletins_admin_bp
    from market.catalogue.api import bp as catalogue_api_bp
    from market.orgs.views import bp as orgs_bp
    from market.prices.api import bp as prices_api_bp
    from market.prices.views import bp as prices_bp
    from market.prices.views_admin import bp as prices_admin_bp
    from market.site import init_site
    from market.site.views import bp as site_bp

    init_site(app)
    app.register_blueprint(site_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(orgs_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(alerts_bp)
    app.register_blueprint(prices_admin_bp)
    app.register_blueprint(prices_bp)
    app.register_blueprint(prices_api_bp)
    app.register_blueprint(catalogue_api_bp)
    app.register_blueprint(bulletins_bp)
    app.register_blueprint(bulletins_admin_bp)
    app.register_blueprint(bulletins_api_bp)

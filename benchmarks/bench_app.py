"""The real application for ``benchmarks/prices``, with a bare endpoint on the same server.

``gunicorn benchmarks.bench_app:app`` with MARKET_BENCH_APP_DATABASE_URL and
MARKET_BENCH_APP_INSTANCE set: the board and commodity pages go through the application as it
is deployed, and ``/_bench/bare`` (the anchor) through the same server, workers, middleware and
Flask stack, without a database or a template.
"""

from __future__ import annotations

import gc
import logging
import os
import secrets

from flask import Response
from flask_login import login_user
from sqlalchemy import select

from market import create_app
from market.db import utcnow, writes
from market.extensions import csrf

app = create_app(
    {
        "SQLALCHEMY_DATABASE_URI": os.environ["MARKET_BENCH_APP_DATABASE_URL"],
        "MARKET_INSTANCE_PATH": os.environ["MARKET_BENCH_APP_INSTANCE"],
        "SECRET_KEY": os.environ.get("MARKET_BENCH_APP_SECRET") or secrets.token_hex(16),
        "MARKET_BASE_URL": "http://bench.local",
    }
)
logging.disable(logging.INFO)


@app.get("/_bench/bare")
def bare() -> Response:
    return Response("ok\n", mimetype="text/plain")


@app.post("/_bench/sign-in")
@csrf.exempt  # the benchmark's client has no form to take a token from
@writes
def sign_in() -> Response:
    """Sign in as a member (created on first use), for the signed-in reader's rows: the
    response's session cookie is what the client sends with its requests."""
    from market.accounts.models import Role, User
    from market.accounts.services import hash_password
    from market.extensions import db

    email = "reader@bench.local"
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(
            email=email,
            password_hash=hash_password(secrets.token_hex(16)),
            name="Bạn đọc thử",
            role=Role.member,
            email_verified_at=utcnow(),
        )
        db.session.add(user)
        db.session.commit()
    login_user(user)
    return Response("ok\n", mimetype="text/plain")


# As market/wsgi.py does in production.
gc.freeze()

"""The ``market`` command: a Flask CLI group with the platform's own commands."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext
from flask_migrate import upgrade
from sqlalchemy import func, select

from market.errors import DomainError
from market.extensions import db


def _create_app() -> Flask:
    from market import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """Quảng Trị agricultural market platform."""


def register(app: Flask) -> None:
    """Commands also reachable as ``flask --app market ...``."""
    app.cli.add_command(init_command)
    app.cli.add_command(demo_command)
    app.cli.add_command(users)


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Migrate the database to the newest schema and load the reference data."""
    from market.catalogue.services import load_reference_data

    upgrade()
    report = load_reference_data()
    db.session.commit()
    click.echo("Reference data: " + (report.summary() if report.changed else "up to date"))


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Only when no organisation exists yet.")
@with_appcontext
def demo_command(if_empty: bool) -> None:
    """Load realistic demo data (idempotent)."""
    from market.demo import load_demo
    from market.orgs.models import Organisation

    if if_empty and db.session.scalar(select(func.count(Organisation.id))):
        click.echo("Demo data: database not empty, left as it is")
        return
    reports = load_demo()
    db.session.commit()
    click.echo("Demo data: " + ("; ".join(reports) if reports else "already loaded"))


@click.group("users")
def users() -> None:
    """Manage staff accounts."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--role", type=click.Choice(["official", "admin"]), required=True)
@click.option("--name", default=None)
@click.option("--password", default=None, help="Made up and printed when not given.")
@with_appcontext
def create_user_command(email: str, role: str, name: str | None, password: str | None) -> None:
    """Create an official or administrator account."""
    from market.accounts.services import create_user

    try:
        user, generated = create_user(email=email, role=role, password=password, name=name)
    except DomainError as error:
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"Created {user.role.value} {user.email}")
    if generated:
        click.echo(f"Password: {generated}")


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the periodic jobs (one process per installation; blocks)."""
    import logging
    import signal

    from flask import current_app

    from jobs import build_scheduler

    # APScheduler announces every run at INFO; our runner already logs each outcome.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    app = current_app._get_current_object()
    scheduler = build_scheduler(app)
    db.session.remove()

    def stop(_signum: int, _frame: object) -> None:
        scheduler.shutdown()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    click.echo(f"Scheduler {scheduler.holder} starting")
    scheduler.start()


@click.group("jobs")
def jobs_group() -> None:
    """Run or list the scheduler's jobs."""


@jobs_group.command("list")
@with_appcontext
def jobs_list() -> None:
    from jobs.runner import JOBS
    from market.scheduler.services import last_runs

    runs = last_runs()
    for name, spec in sorted(JOBS.items()):
        run = runs.get(name)
        last = f"{run.started_at:%Y-%m-%d %H:%M} {run.status}" if run else "never run"
        click.echo(f"{name:20} {spec.description}  [{last}]")


@jobs_group.command("run")
@click.argument("name")
@with_appcontext
def jobs_run(name: str) -> None:
    """Run one job now, in the foreground."""
    from flask import current_app

    from jobs.runner import JOBS, run_job

    if name not in JOBS:
        raise click.ClickException(f"no job {name!r}; known: {', '.join(sorted(JOBS))}")
    db.session.remove()
    outcome = run_job(current_app._get_current_object(), name, holder="cli")
    click.echo(f"{name}: {'ok' if outcome.ok else 'FAILED'} in {outcome.duration_ms} ms")
    if outcome.message:
        click.echo(outcome.message)
    if not outcome.ok:
        raise SystemExit(1)


@click.group("alerts")
def alerts_group() -> None:
    """E-mail delivery."""


@alerts_group.command("send")
@with_appcontext
def alerts_send() -> None:
    """Deliver every queued e-mail that is due, now."""
    from market.alerts.services import deliver_outbox

    report = deliver_outbox()
    click.echo(f"Outbox: {report}")
    for error in report.errors:
        click.echo(f"  {error}")


main.add_command(scheduler_command)
main.add_command(jobs_group)
main.add_command(alerts_group)
main.add_command(init_command)
main.add_command(demo_command)
main.add_command(users)

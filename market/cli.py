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


@click.group("sources")
def sources_group() -> None:
    """Price sources."""


@sources_group.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def sources_load(path: str) -> None:
    """Add or update sources from a TOML file ([[source]] tables), by name."""
    from pathlib import Path

    from market.prices.services import load_sources

    try:
        results = load_sources(Path(path))
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    for name, what in results:
        click.echo(f"{what:8} {name}")


@sources_group.command("list")
@with_appcontext
def sources_list() -> None:
    """Each source with its schedule and health."""
    from market.prices.services import source_health, sources

    for source in sources():
        health = source_health(source)
        state = "on " if source.enabled else "off"
        detail = f" - {health.detail}" if health.detail else ""
        click.echo(
            f"{state} {source.name:40} {source.kind:10} {source.schedule or '-':16} "
            f"{'OK ' if health.ok else 'BAD'} {health.label}{detail}"
        )


@click.group("prices")
def prices_group() -> None:
    """Price collection."""


@prices_group.command("collect")
@click.option("--source", "source_name", default=None, help="Only this source (by name).")
@with_appcontext
def prices_collect(source_name: str | None) -> None:
    """Collect prices now, in the foreground, one progress line per source."""
    from market.prices.collect import collect_source, sources_to_collect

    chosen = sources_to_collect(only=source_name)
    if source_name and not chosen:
        raise click.ClickException(f"no source named {source_name!r}")
    failed = 0
    for source in chosen:
        click.echo(f"{source.name}: collecting {source.url} ...", nl=False)
        run = collect_source(source=source)
        failed += run.status == "failed"
        click.echo(
            f" {run.status}: {run.pages} pages, {run.parsed} read, {run.stored} new, "
            f"{run.updated} changed, {run.unchanged} unchanged, {run.flagged} flagged, "
            f"{run.unmapped} unmapped, {run.rejected} rejected"
            + (f" - {run.error}" if run.error else "")
        )
    if failed:
        raise SystemExit(1)


@click.group("bulletins")
def bulletins_group() -> None:
    """Price bulletins."""


@bulletins_group.command("draft")
@click.option("--period", type=click.Choice(["week", "month"]), default="week", show_default=True)
@click.option(
    "--date",
    "day",
    type=click.DateTime(formats=["%Y-%m-%d", "%d/%m/%Y"]),
    default=None,
    help="A day in the period (default: the last complete week or month).",
)
@click.option("--notify", is_flag=True, help="E-mail the officials that the draft is ready.")
@with_appcontext
def bulletins_draft(period: str, day, notify: bool) -> None:
    """Draft (or recompute the draft of) a bulletin from the published prices."""
    from market.bulletins.services import draft_bulletin, notify_officials

    try:
        outcome = draft_bulletin(actor=None, period=period, day=day.date() if day else None)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    sent = notify_officials(bulletin=outcome.bulletin) if notify else 0
    db.session.commit()
    click.echo(outcome.summary() + (f"; {sent} officials e-mailed" if notify else ""))


main.add_command(sources_group)
main.add_command(prices_group)
main.add_command(scheduler_command)
main.add_command(jobs_group)
main.add_command(alerts_group)
main.add_command(init_command)
main.add_command(demo_command)
main.add_command(users)
main.add_command(bulletins_group)

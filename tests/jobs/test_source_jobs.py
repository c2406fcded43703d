"""Price sources become scheduler jobs, and follow changes without a restart."""

from __future__ import annotations

from jobs import build_scheduler
from market.extensions import db
from market.prices.services import save_source


def _job_ids(scheduler) -> dict[str, str]:
    return {j.id: str(j.trigger) for j in scheduler.scheduler.get_jobs()}


def test_sources_follow_changes_without_restart(app, database) -> None:
    with app.app_context():
        source, _ = save_source(
            actor=None,
            name="Giá thử",
            kind="html_table",
            url="http://127.0.0.1/x",
            schedule="30 8 * * 1-6",
            settings={},
        )
        off, _ = save_source(
            actor=None,
            name="Tắt",
            kind="html_table",
            url="http://127.0.0.1/y",
            schedule="0 9 * * *",
            settings={},
            enabled=False,
        )
        db.session.commit()
        source_id, off_id = source.id, off.id
    scheduler = build_scheduler(app, holder="test")
    scheduler.sync_dynamic_jobs()
    jobs = _job_ids(scheduler)
    assert f"dyn:collect:{source_id}" in jobs and f"dyn:collect:{off_id}" not in jobs
    assert "hour='8'" in jobs[f"dyn:collect:{source_id}"]
    assert {"send_outbox", "build_digests", "collect_requested"} <= set(jobs)

    with app.app_context():
        save_source(
            actor=None,
            name="Giá thử",
            kind="html_table",
            url="http://127.0.0.1/x",
            schedule="0 14 * * *",
            settings={},
        )
        save_source(
            actor=None,
            name="Tắt",
            kind="html_table",
            url="http://127.0.0.1/y",
            schedule="0 9 * * *",
            settings={},
            enabled=True,
        )
        db.session.commit()
    scheduler.sync_dynamic_jobs()
    jobs = _job_ids(scheduler)
    assert "hour='14'" in jobs[f"dyn:collect:{source_id}"]
    assert f"dyn:collect:{off_id}" in jobs

    with app.app_context():
        save_source(
            actor=None,
            name="Giá thử",
            kind="html_table",
            url="http://127.0.0.1/x",
            schedule="0 14 * * *",
            settings={},
            enabled=False,
        )
        db.session.commit()
    scheduler.sync_dynamic_jobs()
    assert f"dyn:collect:{source_id}" not in _job_ids(scheduler)

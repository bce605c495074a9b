"""The sample stations and the flood simulation used by `cityos demo --scenario flood`."""

from __future__ import annotations

from datetime import timedelta

from cityos.core.events import Event, ThresholdCrossed
from cityos.db import Database, utcnow
from cityos.sensors import demo, service


def test_sample_stations_load_once_and_say_they_are_samples(db: Database) -> None:
    with db.session() as session:
        created = demo.load_demo_stations(session)
        assert demo.load_demo_stations(session) == []
    assert len(created) == 4
    with db.session() as session:
        for view in service.all_stations(session):
            assert "サンプル" in view.station.name
            assert "sample" in view.station.name_en
            assert "サンプル" in view.station.description
            assert view.station.town
            assert not view.offline
            assert view.level == 0


def test_the_flood_takes_nogawa_at_osawa_past_all_four_thresholds(
    db: Database, events: list[Event]
) -> None:
    start = utcnow() - timedelta(minutes=30)
    with db.session() as session:
        demo.load_demo_stations(session, now=start)
        recorded = demo.simulate_flood(session, start, 30)
    assert recorded == 4 * 30  # each station, every minute
    osawa = [
        e
        for e in events
        if isinstance(e, ThresholdCrossed) and e.station_id.endswith(demo.NOGAWA_OSAWA)
    ]
    assert [(e.rank, e.direction) for e in osawa] == [(1, "up"), (2, "up"), (3, "up"), (4, "up")]
    assert {e.town for e in osawa} == {"大沢四丁目"}
    with db.session() as session:
        station = service.get_station(session, demo.NOGAWA_OSAWA)
        assert service.view_of(session, station).level == 4
        flagged = service.flagged_readings(session, station, start - timedelta(days=1))
        assert flagged == []  # every simulated reading is plausible


def test_a_flood_after_the_calm_history_is_moved_after_it(
    db: Database, events: list[Event]
) -> None:
    with db.session() as session:
        demo.load_demo_stations(session)  # calm readings up to now
        demo.simulate_flood(session, utcnow() - timedelta(hours=2), 20)
    ups = [e for e in events if isinstance(e, ThresholdCrossed) and e.direction == "up"]
    assert {e.rank for e in ups if e.station_id.endswith(demo.NOGAWA_OSAWA)} == {1, 2, 3, 4}

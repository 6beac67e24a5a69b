"""The intake buffer on a real redis-server: what `append` returned survives a crash of Redis, the consumer
lands every entry exactly once in landing files however it is killed, and the batch loader reads those files
exactly as it reads the channels' own files."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import redis

from ingestion import landing, warehouse
from ingestion.buffer import IntakeEntry, LandingWriter, MalformedEntry, NotDurable, RedisStreamLog
from ingestion.faults import CRASH_ENV
from ingestion.loader import run_batch
from orchestration.services.redis_server import RedisServer, available

DAY = dt.date(2026, 11, 26)
JSON_CHANNELS = ("app", "miniprogram", "meituan", "eleme")
ROOT = Path(__file__).resolve().parents[2]


def _order_key(channel: str, record: str) -> str:
    try:
        obj = json.loads(record)
    except ValueError:
        return f"{channel}:unparsed"
    if not isinstance(obj, dict):
        return f"{channel}:unparsed"
    key = obj.get("order_no") or obj.get("order_id") or obj.get("orderId") or obj.get("id")
    return f"{channel}:{key}"


@pytest.fixture(scope="module")
def simulated(tmp_path_factory) -> tuple[Path, list[IntakeEntry]]:
    """A small simulated day (with its bad records and repeated pushes) and its JSON-channel order lines as
    the intake entries the gateway would append, in file order."""
    out = tmp_path_factory.mktemp("simulated")
    # Through its command line: `tests/simulator/` would shadow the package for an import from here.
    command = [sys.executable, "-m", "simulator", "day", "--date", DAY.isoformat(), "--orders", "300"]
    subprocess.run([*command, "--seed", "5", "--out", str(out)], cwd=ROOT, check=True, capture_output=True)
    entries: list[IntakeEntry] = []
    for channel in JSON_CHANNELS:
        for path in sorted((out / "orders" / channel / DAY.isoformat()).glob("*.jsonl")):
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
                if line.strip():
                    entries.append(IntakeEntry(channel, DAY.isoformat(), _order_key(channel, line), line, n))
    return out, entries


def _landing_with_reference(simulated_root: Path, target: Path) -> Path:
    shutil.copytree(simulated_root / "reference", target / "reference")
    return target


def _landed_records(root: Path) -> Counter:
    return Counter(
        line
        for path in (root / "orders").glob("*/*/*.jsonl")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line
    )


def _drain(writer: LandingWriter, log: RedisStreamLog) -> None:
    while log.backlog():
        writer.drain_once(block_ms=50)


def test_landed_entries_load_exactly_like_the_channels_own_files(simulated, redis_client, tmp_path):
    """Entries through the log → landing files → run_batch gives the same per-channel accounting and the same
    orders as loading the simulator's files directly; every order once."""
    sim_root, entries = simulated
    log = RedisStreamLog(redis_client)
    for entry in entries:
        log.append(entry)
    intake_root = _landing_with_reference(sim_root, tmp_path / "intake")
    writer = LandingWriter(log, intake_root, "c1", max_records=97)
    _drain(writer, log)
    assert writer.landed == len(entries) and log.backlog() == 0
    assert not list(intake_root.rglob(".*")), "temp files or id lists left behind"

    direct_root = _landing_with_reference(sim_root, tmp_path / "direct")
    for channel in JSON_CHANNELS:
        shutil.copytree(sim_root / "orders" / channel, direct_root / "orders" / channel)

    results = {}
    for name, root in (("intake", intake_root), ("direct", direct_root)):
        con = warehouse.connect(tmp_path / f"{name}.duckdb")
        run_batch(con, root)
        results[name] = (
            con.execute(
                "select channel, landed, loaded, quarantined, duplicate from raw.ingest_batches "
                "where channel in ('app', 'miniprogram', 'meituan', 'eleme') order by channel"
            ).fetchall(),
            con.execute("select order_key, count(*) from raw.orders group by order_key order by 1").fetchall(),
        )
        con.close()
    accounting, orders = results["intake"]
    assert {row[0] for row in accounting} == set(JSON_CHANNELS)
    assert sum(row[1] for row in accounting) == len(entries)
    assert all(count == 1 for _, count in orders) and len(orders) > 200
    assert results["intake"] == results["direct"]


def test_two_consumers_share_the_work_without_duplicates(simulated, redis_client, tmp_path):
    _, entries = simulated
    log_a, log_b = RedisStreamLog(redis_client), RedisStreamLog(redis_client)
    for entry in entries:
        log_a.append(entry)
    a = LandingWriter(log_a, tmp_path, "a", max_records=40)
    b = LandingWriter(log_b, tmp_path, "b", max_records=40)
    while log_a.backlog():
        a.drain_once(block_ms=10)
        b.drain_once(block_ms=10)
    assert a.landed > 0 and b.landed > 0
    assert a.landed + b.landed == len(entries)
    assert _landed_records(tmp_path) == Counter(e.record for e in entries)


def _writer_process(url: str, root: Path, consumer: str, max_records: int, crash_at: str | None, claim_ms=None):
    """A writer in its own process draining until the log is empty; with `crash_at` it SIGKILLs itself there."""
    code = (
        "import sys, redis\n"
        "from pathlib import Path\n"
        "from ingestion.buffer import LandingWriter, RedisStreamLog\n"
        "log = RedisStreamLog(redis.Redis.from_url(sys.argv[1]))\n"
        "claim = None if sys.argv[5] == 'none' else int(sys.argv[5])\n"
        "w = LandingWriter(log, Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]), claim_idle_ms=claim)\n"
        "while log.backlog():\n"
        "    w.drain_once(block_ms=20)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
    if crash_at:
        env[CRASH_ENV] = crash_at
    args = [url, str(root), consumer, str(max_records), "none" if claim_ms is None else str(claim_ms)]
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=ROOT, env=env)


@pytest.mark.e2e
def test_consumer_killed_mid_drain_lands_every_entry_exactly_once(simulated, redis_server, redis_client, tmp_path):
    """Killed after its first file, then before its ack; restarted under its own name, then replaced by a
    consumer that claims its entries in differently cut batches: each entry is in the files once."""
    _, entries = simulated
    log = RedisStreamLog(redis_client)
    for entry in entries:
        log.append(entry)
    for crash_at, consumer, max_records, claim in (
        ("intake.between_ids_and_file", "c1", 150, None),
        ("intake.after_first_file", "c1", 150, None),
        ("intake.before_ack", "c1", 150, None),
        ("intake.after_first_file", "c1", 150, None),
        (None, "c2", 61, 0),  # c1 is dead: c2 claims what it holds, cut into other batches
    ):
        proc = _writer_process(redis_server.url, tmp_path, consumer, max_records, crash_at, claim)
        assert proc.wait(timeout=120) == (-signal.SIGKILL if crash_at else 0), crash_at
    assert log.backlog() == 0
    assert _landed_records(tmp_path) == Counter(e.record for e in entries)
    assert not list(tmp_path.rglob(".*")), "temp files or id lists left behind"


@pytest.mark.e2e
def test_consumer_sigkilled_from_outside_then_restarted_loses_and_repeats_nothing(
    simulated, redis_server, redis_client, tmp_path
):
    _, entries = simulated
    log = RedisStreamLog(redis_client)
    for entry in entries:
        log.append(entry)
    for progress in (100, 250, 400, 550, 700):
        proc = _writer_process(redis_server.url, tmp_path, "c1", 10, None)
        # Kill it once it is well into its work, wherever in a drain it happens to be.
        while log.backlog() > len(entries) - progress and proc.poll() is None:
            time.sleep(0.002)
        proc.kill()
        proc.wait()
    assert 0 < log.backlog() < len(entries), "the kills did not land mid-way; the test proves nothing"
    assert _writer_process(redis_server.url, tmp_path, "c1", 10, None).wait(timeout=120) == 0
    assert _landed_records(tmp_path) == Counter(e.record for e in entries)


@pytest.fixture
def own_server(tmp_path):
    if not available():
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()


def test_an_appended_entry_survives_sigkill_of_redis(own_server):
    log = RedisStreamLog(redis.Redis.from_url(own_server.url))
    entry = IntakeEntry("meituan", "2026-11-26", "meituan:1", '{"order_id": "1"}', 1764127925000)
    entry_id = log.append(entry)
    own_server.kill()
    own_server.start()
    after = RedisStreamLog(redis.Redis.from_url(own_server.url, decode_responses=True))
    assert after.backlog() == 1
    assert after.read("c1", 10, 0) == [(entry_id, entry)]


def test_a_server_that_may_lose_acknowledged_writes_is_refused(tmp_path):
    if not available():
        pytest.skip("redis-server is not installed")
    with RedisServer(tmp_path / "redis", fsync="everysec") as server:
        with pytest.raises(NotDurable, match="appendfsync=everysec"):
            RedisStreamLog(redis.Redis.from_url(server.url))


def test_backlog_counts_appended_entries_until_acked(redis_client):
    log = RedisStreamLog(redis_client)
    ids = [log.append(IntakeEntry("app", "2026-11-26", f"app:{n}", f'{{"n": {n}}}', n)) for n in range(5)]
    assert log.backlog() == 5
    read = log.read("c1", 3, 0)
    assert [entry_id for entry_id, _ in read] == ids[:3] and log.backlog() == 5
    assert log.read("c1", 3, 0) == read, "unacked entries come back first, the same ones"
    log.ack(ids[:2])
    assert log.backlog() == 3
    assert [entry_id for entry_id, _ in log.read("c1", 10, 0)] == [ids[2]]
    log.ack([ids[2]])
    assert [entry_id for entry_id, _ in log.read("c1", 10, 0)] == ids[3:]
    log.ack(ids[3:])
    assert log.backlog() == 0 and redis_client.xlen("oh:intake") == 0


def test_claim_takes_over_only_entries_idle_long_enough(redis_client):
    log = RedisStreamLog(redis_client)
    ids = [log.append(IntakeEntry("app", "2026-11-26", f"app:{n}", f'{{"n": {n}}}', n)) for n in range(3)]
    log.read("dead", 10, 0)
    assert log.claim_stale("alive", 60_000) == 0
    assert log.claim_stale("alive", 0) == 3
    assert [entry_id for entry_id, _ in log.read("alive", 10, 0)] == ids


def test_a_malformed_entry_is_written_to_the_rejects_file_and_acked(redis_client, tmp_path):
    log = RedisStreamLog(redis_client)
    good = IntakeEntry("eleme", "2026-11-26", "eleme:1", '{"id": "1"}', 1)
    log.append(good)
    bad_id = redis_client.xadd("oh:intake", {"channel": "meituan", "record": '{"order_id": "9"}'})
    writer = LandingWriter(log, tmp_path, "c1")
    written = writer.drain_once(block_ms=0)
    assert writer.rejected == 1 and writer.landed == 1 and log.backlog() == 0
    rejects = [p for p in written if p.parent.name == "_intake_rejects"]
    assert len(rejects) == 1
    (line,) = rejects[0].read_text(encoding="utf-8").splitlines()
    reject = json.loads(line)
    assert reject["id"] == bad_id and "business_date" in reject["reason"] and "received_at_ms" in reject["reason"]
    assert reject["fields"]["record"] == '{"order_id": "9"}'
    assert [f.relative for f in landing.discover(tmp_path)] == [
        p.relative_to(tmp_path).as_posix() for p in written if p not in rejects
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"channel": "../etc"}, "channel"),
        ({"business_date": "2026-11-26/../x"}, "business_date"),
        ({"record": '{"a": 1}\n{"b": 2}'}, "more than one line"),
        ({"record": "  "}, "empty"),
    ],
)
def test_append_refuses_an_entry_no_consumer_could_land(redis_client, change, message):
    fields = {
        "channel": "app",
        "business_date": "2026-11-26",
        "order_key": "app:1",
        "record": "{}",
        "received_at_ms": 1,
    }
    with pytest.raises(MalformedEntry, match=message):
        RedisStreamLog(redis_client).append(IntakeEntry(**{**fields, **change}))
    assert redis_client.xlen("oh:intake") == 0


def test_the_running_consumer_rides_out_a_redis_crash(own_server, tmp_path):
    """`run` keeps going through a SIGKILL and restart of Redis: what was appended before and after is landed."""
    log = RedisStreamLog(redis.Redis.from_url(own_server.url, decode_responses=True))
    records = [f'{{"order_no": "APP{n:05d}"}}' for n in range(40)]
    for n, record in enumerate(records[:20]):
        log.append(IntakeEntry("app", "2026-11-26", f"app:{n}", record, n))
    writer = LandingWriter(log, tmp_path / "landing", "c1", max_records=7)
    stop = threading.Event()
    thread = threading.Thread(target=writer.run, args=(stop,), kwargs={"block_ms": 50})
    thread.start()
    try:
        own_server.kill()
        time.sleep(0.3)  # the consumer meets a dead server at least once
        own_server.start()
        for n, record in enumerate(records[20:], start=20):
            log.append(IntakeEntry("app", "2026-11-26", f"app:{n}", record, n))
        deadline = time.monotonic() + 30
        while log.backlog() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()
    assert _landed_records(tmp_path / "landing") == Counter(records)


def test_a_server_that_may_evict_the_stream_is_refused(redis_client):
    redis_client.config_set("maxmemory-policy", "allkeys-lru")
    try:
        with pytest.raises(NotDurable, match="allkeys-lru"):
            RedisStreamLog(redis_client)
    finally:
        redis_client.config_set("maxmemory-policy", "noeviction")

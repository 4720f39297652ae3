"""Each `make bench` row beside its target: PASS or MISS, and the share of the machine others took."""

from __future__ import annotations

from typing import Any

from bench.surge import verdict as surge_verdict

TARGETS = {
    "latency": "p50 and p95 <= 1.5x floor",
    "throughput": ">= 0.7x floor",
    "webhook": "p99 <= 1.3x floor, all < 15 s",
    "cost": "<= 12 actions per generation",
    "memory": "worker RSS <= 300 MB",
    "waiting": "worker RSS <= 300 MB, evicted p50 <= 2x cached",
    "surge": "0 429s, drain <= 1.1x, light p95 <= 1.2x fair",
}


def waiting_verdict(w: dict[str, Any]) -> tuple[bool, str, str]:
    """RSS with every generation waiting, and callback -> chat of evicted against cached ones (row 6)."""
    cached, evicted = w["cached"]["callback_to_chat"], w["evicted"]["callback_to_chat"]
    ok = (
        w["worker_rss_mb"] <= 300
        and w["generations_waiting"] == w["generations"]
        and bool(cached and evicted)
        and min(cached["n"], evicted["n"]) >= w["samples_wanted"] // 2
        and w["ratio_p50"] is not None
        and w["ratio_p50"] <= 2.0
    )
    ours = f"{w['worker_rss_mb']} MB (cache {w['max_cached_workflows']})"
    if cached and evicted:
        ours += (
            f"; cached p50 {cached['p50_ms']} / p95 {cached['p95_ms']} ms (n {cached['n']}), "
            f"evicted p50 {evicted['p50_ms']} / p95 {evicted['p95_ms']} ms (n {evicted['n']})"
        )
    return ok, ours, f"{w['ratio_p50']}x"


def _others(r: dict[str, Any], phase: str) -> str:
    cpu = r.get(phase, {}).get("cpu")
    return f"{cpu['others_share_of_machine'] * 100:.0f}%" if cpu else "-"


def verdicts(r: dict[str, Any]) -> list[list[Any]]:
    rows: list[list[Any]] = []

    def row(key: str, ok: bool, measure: str, ours: str, floor: str, ratio: str, *, phase: str = "") -> None:
        # ``phase``: whose CPU share to show (cost is read from the latency phase's histories).
        verdict = "PASS" if ok else "MISS"
        rows.append([measure, ours, floor, ratio, TARGETS[key], verdict, _others(r, phase or key)])

    if "latency" in r:
        lat = r["latency"]
        ok = lat["ratio_p50"] <= 1.5 and lat["ratio_p95"] <= 1.5
        row(
            "latency",
            ok,
            "1 latency callback->chat",
            f"p50 {lat['generation']['p50_ms']} ms, p95 {lat['generation']['p95_ms']} ms",
            f"p50 {lat['floor']['p50_ms']} ms, p95 {lat['floor']['p95_ms']} ms",
            f"{lat['ratio_p50']}x / {lat['ratio_p95']}x",
        )
    if "throughput" in r:
        tp = r["throughput"]
        ok = tp["ratio"] is not None and tp["ratio"] >= 0.7 and tp["completed"] == tp["generations"]
        row(
            "throughput",
            ok,
            f"2 throughput ({tp['generations']} gens)",
            f"{tp['generations_per_second']}/s",
            f"{tp['floor_per_second']}/s",
            f"{tp['ratio']}x",
        )
    if "webhook" in r:
        wh = r["webhook"]
        ok = (
            wh["ratio_p99"] <= 1.3
            and wh["webhooks"]["over_15s"] == 0
            and set(wh["webhooks"]["statuses"]) == {200}
        )
        row(
            "webhook",
            ok,
            f"3 webhook ({wh['callbacks']} @ {wh['concurrency']})",
            f"p50 {wh['webhooks']['p50_ms']} ms, p99 {wh['webhooks']['p99_ms']} ms",
            f"p50 {wh['floor']['p50_ms']} ms, p99 {wh['floor']['p99_ms']} ms",
            f"{wh['ratio_p50']}x / {wh['ratio_p99']}x",
        )
    if "cost" in r:
        cost = r["cost"]
        ok = cost["actions_median"] <= 12
        row(
            "cost",
            ok,
            "4 cost per generation",
            f"{cost['actions_median']:g} actions, {cost['history_events']['median']:g} events",
            "-",
            "-",
            phase="latency",
        )
    if "memory" in r:
        mem = r["memory"]
        ok = mem["worker_rss_mb"] <= 300
        row(
            "memory",
            ok,
            f"5 memory ({mem['generations_waiting']} waiting)",
            f"{mem['worker_rss_mb']} MB",
            f"idle {mem['worker_rss_mb_idle_before']} MB",
            f"telegram-worker {mem['telegram_worker_rss_mb_idle_before']} -> "
            f"{mem['telegram_worker_rss_mb']} MB",
        )
    if "waiting" in r:
        ok, ours, ratio = waiting_verdict(r["waiting"])
        row("waiting", ok, f"6 waiting ({r['waiting']['generations_waiting']} waiting)", ours, "-", ratio)
    for keys, surge in sorted(r.get("surge", {}).items()):
        ok, _text = surge_verdict(surge)
        row(
            "surge",
            ok,
            f"7 surge ({surge['requests']} reqs, {keys} key{'s' if int(keys) > 1 else ''})",
            f"429s {surge['kie_429']}, drain {surge['drain_seconds']} s, "
            f"light p95 {surge['light_wait_p95_s']} s, first p95 {surge['light_first_wait_p95_s']} s, "
            f"edits {surge['edits_max_per_second']}/s",
            f"ideal drain {surge['ideal_drain_seconds']} s, fair p95 {surge['ideal_light_wait_p95_s']} s, "
            f"first {surge['ideal_light_first_wait_p95_s']} s "
            f"(FIFO {surge['fifo_light_first_wait_p95_s']} s)",
            f"{surge['drain_ratio']}x / {surge['light_wait_ratio']}x",
            phase="none",
        )
    return rows

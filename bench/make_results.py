#!/usr/bin/env python3
"""Writes bench/RESULTS.md (to stdout) from the files bench/run collected.

Input directory: machine.txt (key=value lines), loads.txt (label|/proc/loadavg
lines), encode.json and e2e_*.json (Google Benchmark JSON; with repetitions >
1 only aggregates, of which the medians are used), speed.txt (openssl speed
-evp aes-128-gcm), and optionally daemon.json (bench/daemon_bench output).
"""

import argparse
import glob
import json
import os
import re
import sys


def read_kv(path):
    values = {}
    with open(path) as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("=")
            values[key] = value
    return values


def medians(path):
    """name -> benchmark entry (the median aggregate, or the single run)."""
    with open(path) as f:
        data = json.load(f)
    runs = {}
    for b in data.get("benchmarks", []):
        if b.get("error_occurred"):
            runs[b.get("run_name", b["name"])] = {"error": b.get("error_message", "?")}
            continue
        name = b.get("run_name", b["name"])
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                runs[name] = b
        elif name not in runs:
            runs[name] = b
    return runs


def aes_gcm_16k(path):
    """Bytes/s of the 16384-byte column of `openssl speed -evp aes-128-gcm`."""
    header = None
    with open(path) as f:
        for line in f:
            if line.startswith("type"):
                header = re.findall(r"(\d+) bytes", line)
            elif header and line.upper().startswith("AES-128-GCM"):
                values = line.split()[1:]
                column = header.index("16384")
                value = values[column]
                scale = 1000.0 if value.endswith("k") else 1.0
                return float(value.rstrip("k")) * scale
    return None


def fmt_rate(value):
    if value is None:
        return "–"
    if value >= 1e6:
        return f"{value / 1e6:.2f} M"
    if value >= 1e3:
        return f"{value / 1e3:.1f} k"
    return f"{value:.0f}"


def fmt(value, digits=2):
    return "–" if value is None else f"{value:.{digits}f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def e2e_key(name):
    # E2E/<client>/qos<q>/<size>/min_time:.../real_time
    parts = name.split("/")
    return parts[1], int(parts[2][3:]), int(parts[3])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--analysis")
    args = parser.parse_args()

    machine = read_kv(os.path.join(args.dir, "machine.txt"))
    loads = []
    with open(os.path.join(args.dir, "loads.txt")) as f:
        for line in f:
            label, _, avg = line.strip().partition("|")
            loads.append((label, float(avg.split()[0])))
    encode = medians(os.path.join(args.dir, "encode.json"))
    e2e = {}
    for path in sorted(glob.glob(os.path.join(args.dir, "e2e_*.json"))):
        for name, entry in medians(path).items():
            e2e[e2e_key(name)] = entry
    aes = aes_gcm_16k(os.path.join(args.dir, "speed.txt"))
    daemon = None
    daemon_path = os.path.join(args.dir, "daemon.json")
    if os.path.exists(daemon_path):
        with open(daemon_path) as f:
            daemon = json.load(f)

    def get(client, qos, size, counter):
        entry = e2e.get((client, qos, size))
        if entry is None or "error" in entry:
            return None
        return entry.get(counter)

    out = []
    w = out.append
    w("# Publish path benchmarks")
    w("")
    w("Written by `bench/run` (do not edit by hand; the analysis section comes "
      "from `bench/analysis.md`). Medians of "
      f"{machine.get('repetitions')} repetitions.")
    w("")
    w("## Machine and run")
    w("")
    w(f"- date: {machine.get('date')}, commit {machine.get('commit')}")
    w(f"- CPU: {machine.get('cpu')} ({machine.get('nproc')} cores, "
      f"hypervisor {machine.get('hypervisor') or 'none'}), memory "
      f"{machine.get('memory')}, kernel {machine.get('kernel')}")
    w(f"- libwebsockets {machine.get('lws')}, mosquitto "
      f"{machine.get('mosquitto')}, Paho C {machine.get('paho')}, "
      f"{machine.get('openssl')}, {machine.get('gcc')}, "
      f"{machine.get('glibc')}")
    load_values = [l for _, l in loads]
    w(f"- machine load (1-min load average, sampled before each benchmark): "
      f"min {min(load_values):.2f}, median "
      f"{sorted(load_values)[len(load_values) // 2]:.2f}, max "
      f"{max(load_values):.2f}; busiest processes at the start: "
      f"{machine.get('busy')}")
    if max(load_values) > 1.0:
        w("- **Other work was running on this 2-core machine during the run** "
          "(other engineers' builds and tests; load above 1 means the "
          "benchmark, the broker and other processes competed for the two "
          "cores). Absolute numbers are lower and noisier than on an idle "
          "machine; client A and B ran alternately under the same conditions, "
          "so the ratios are the more robust figures.")
    w("")

    w("## 1. Encode cost (no I/O; `//bench:encode_bench`)")
    w("")
    w("| benchmark | 64 B ns/msg | 64 B MB/s | 1 KiB ns/msg | 1 KiB MB/s | "
      "16 KiB ns/msg | 16 KiB MB/s |")
    w("|---|---|---|---|---|---|---|")
    for bench in ["BM_EncodePublish", "BM_EncodePublishInFrame",
                  "BM_EncodeWindowInOneFrame", "BM_ApplyWsMask",
                  "BM_SessionQos1Window", "BM_SessionQos0"]:
        row = [bench]
        for size in (64, 1024, 16384):
            entry = encode.get(f"{bench}/{size}")
            if entry is None or "error" in entry:
                row += ["–", "–"]
                continue
            items = entry.get("items_per_second")
            row.append(fmt(1e9 / items, 0) if items else "–")
            row.append(fmt(entry.get("bytes_per_second", 0) / 1e6, 0))
        w("| " + " | ".join(row) + " |")
    w("")
    w("MQTT PUBLISH plus WebSocket frame per message is "
      "`BM_EncodePublishInFrame`; `BM_EncodeWindowInOneFrame` is the same "
      "with 20 messages coalesced into one frame (per message). "
      "`BM_Session*` add the session's bookkeeping (copy into the session, "
      "alias lookup, packet id, in-flight map, PUBACK decode).")
    w("")

    w("## 2. End to end: mosquitto over WSS on loopback (`//bench:e2e_bench`)")
    w("")
    w("TLS 1.3 with TLS_AES_128_GCM_SHA256 (pinned on the broker), "
      "certificate verified against the bench CA, MQTT 5, topic "
      "`/agent/bench/outbound/v1/x`. QoS 1 in flight: the broker's Receive "
      "Maximum (window column); QoS 0: ≤ 1 MiB of payload not yet handed to "
      "TLS, batch complete when a trailing QoS 1 marker is PUBACKed. "
      "**ours** = `MqttSession` over the lws `WssConnection` on one thread, "
      "refilling on every PUBACK; **paho** = Paho C 1.3 async (wss://). "
      "CPU = user+system seconds of the publishing process (all threads, "
      "getrusage) per 100 000 messages; broker CPU from /proc. Peak RSS = "
      "ru_maxrss of the benchmark process (one benchmark per process; "
      "includes the benchmark harness and both libraries' code).")
    w("")
    w("| QoS | payload | ours msgs/s | paho msgs/s | ratio | ours MB/s | "
      "paho MB/s | ours CPU s/100k | paho CPU s/100k | CPU ratio | "
      "broker CPU s/100k ours / paho | peak RSS MiB ours / paho | window |")
    w("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for qos in (0, 1):
        for size in (64, 1024, 16384):
            a = lambda c: get("session", qos, size, c)
            b = lambda c: get("paho", qos, size, c)
            w("| " + " | ".join([
                str(qos), f"{size} B",
                fmt_rate(a("msgs_per_s")), fmt_rate(b("msgs_per_s")),
                fmt(ratio(a("msgs_per_s"), b("msgs_per_s"))) + "×",
                fmt((a("bytes_per_second") or 0) / 1e6, 1),
                fmt((b("bytes_per_second") or 0) / 1e6, 1),
                fmt(a("cpu_s_per_100k")), fmt(b("cpu_s_per_100k")),
                fmt(ratio(a("cpu_s_per_100k"), b("cpu_s_per_100k"))) + "×",
                f"{fmt(a('broker_cpu_s_per_100k'))} / "
                f"{fmt(b('broker_cpu_s_per_100k'))}",
                f"{fmt(a('peak_rss_MiB'), 1)} / {fmt(b('peak_rss_MiB'), 1)}",
                fmt(a("window"), 0),
            ]) + " |")
    w("")
    w("Variant **ours, half-window refill** (`session_halfwin`): the producer "
      "tops the QoS 1 window up only when half of it is free, so one "
      "WebSocket frame / TLS record carries ~10 messages instead of ~1:")
    w("")
    w("| QoS | payload | msgs/s | vs paho | MB/s | CPU s/100k | CPU vs paho |"
      " broker CPU s/100k |")
    w("|---|---|---|---|---|---|---|---|")
    for size in (64, 1024, 16384):
        h = lambda c: get("session_halfwin", 1, size, c)
        b = lambda c: get("paho", 1, size, c)
        w("| " + " | ".join([
            "1", f"{size} B", fmt_rate(h("msgs_per_s")),
            fmt(ratio(h("msgs_per_s"), b("msgs_per_s"))) + "×",
            fmt((h("bytes_per_second") or 0) / 1e6, 1),
            fmt(h("cpu_s_per_100k")),
            fmt(ratio(h("cpu_s_per_100k"), b("cpu_s_per_100k"))) + "×",
            fmt(h("broker_cpu_s_per_100k")),
        ]) + " |")
    errors = [(k, v["error"]) for k, v in e2e.items() if "error" in v]
    for key, message in errors:
        w(f"- error in {key}: {message}")
    w("")

    w("## 3. The limit: single-core AES-128-GCM")
    w("")
    w(f"`openssl speed -evp aes-128-gcm`, 16384-byte blocks: "
      f"**{fmt((aes or 0) / 1e6, 0)} MB/s** on one core.")
    w("")

    if daemon is not None:
        w("## 4. The whole daemon path (`bench/daemon_bench.py`)")
        w("")
        w("cloudlinkd (-c opt) claimed against the real dev cloud, fed by "
          "`cloudlinkctl publish` (Publish RPC over the Unix socket, requests "
          "as JSON lines on its stdin), topic name `node-instance-info`. The "
          "broker is the dev cloud's mosquitto (default TLS suites, password "
          "file, ACL, and the dev cloud's own subscriber), so these figures "
          "are not comparable with section 2; they show what the daemon "
          "adds. Wall time from the start of cloudlinkctl to its last ack.")
        w("")
        if "error" in daemon:
            w(f"- **error**: {daemon['error']}")
        w("| level | payload | messages | acks (failed) | msgs/s | MB/s | "
          "cloudlinkd CPU s/100k | cloudlinkctl CPU s/100k |")
        w("|---|---|---|---|---|---|---|---|")
        for t in daemon.get("throughput", []):
            w(f"| {t['level'].replace('DELIVERY_LEVEL_', '')} | "
              f"{t['payload']} B | {t['messages']} | {t['acks']} "
              f"({t['failed']}) | {fmt_rate(t['msgs_per_s'])} | "
              f"{t['payload_MB_per_s']:.2f} | "
              f"{t['cloudlinkd_cpu_s_per_100k']:.2f} | "
              f"{t['cloudlinkctl_cpu_s_per_100k']:.2f} |")
        w("")
        if "full_queue" in daemon:
            fq = daemon["full_queue"]
            w(f"Full queue: broker stopped, `--queue-bytes="
              f"{fq['queue_bytes']}`, {fq['requests']} AT_LEAST_ONCE requests "
              f"of {fq['payload']} B without waiting: {fq['queued']} queued, "
              f"{fq['queue_full_acks']} answered QUEUE_FULL. cloudlinkd RSS "
              f"online before: {daemon.get('rss_online_mib', 0):.1f} MiB; "
              f"peak RSS (VmHWM) after the fill: {fq['peak_rss_mib']:.1f} MiB "
              f"(current {fq['rss_mib']:.1f} MiB"
              + (f": {fq['rss_anon_mib']:.1f} MiB private, "
                 f"{fq['rss_file_mib']:.1f} MiB pages of shared libraries"
                 if "rss_anon_mib" in fq else "") + ").")
            if "rss_after_drain_mib" in fq:
                w(f"After the broker came back and the queue drained: RSS "
                  f"{fq['rss_after_drain_mib']:.1f} MiB (before the fill "
                  f"{fq.get('rss_before_fill_mib', 0):.1f} MiB; target: at "
                  f"most 16 MiB more).")
            w("")
        if daemon.get("runs"):
            w("The producer library (`client/producer.h`) through cloudlinkd, "
              "over the publish socket (**socket**) and over the Publish RPC "
              "(**grpc**), and Paho C to the same broker (the dev cloud's "
              "mosquitto, as its admin), in the same run. CPU and context "
              "switches per message; cloudlinkd's are zero for Paho, which "
              "bypasses it.")
            w("")
            w("| case | client | msgs/s | client CPU µs/msg | cloudlinkd CPU "
              "µs/msg | cloudlinkd ctx sw/msg | RSS MiB (peak) | error |")
            w("|---|---|---|---|---|---|---|---|")
            for r in daemon["runs"]:
                n = max(1, r.get("messages", 1))
                secs = r.get("seconds") or 0
                w(f"| {r['case']} | {r['client']} | "
                  f"{fmt_rate(n / secs) if secs else '-'} | "
                  f"{r.get('cpu_s', 0) * 1e6 / n:.1f} | "
                  f"{r.get('cloudlinkd_cpu_s', 0) * 1e6 / n:.1f} | "
                  f"{r.get('cloudlinkd_switches', 0) / n:.2f} | "
                  f"{r.get('rss_mib', 0):.0f} ({r.get('peak_rss_mib', 0):.0f})"
                  f" | {r.get('error', '')} |")
            w("")
        if "idle" in daemon:
            idle = daemon["idle"]
            stopped = idle.get("grpc_stopped_after_s")
            w(f"Idle and online for {idle['seconds']} s: "
              f"{idle['switches_per_s']:.1f} context switches per second "
              f"across cloudlinkd's {idle['threads']} threads"
              + (f", measured from when gRPC stopped, {stopped} s after the "
                 f"last API connection (--api-idle-stop)."
                 if stopped is not None else "."))
            w("")

    w("## Targets (same machine, same run)")
    w("")
    w("| target | measured | result |")
    w("|---|---|---|")

    def verdict(ok):
        if ok is None:
            return "not measured"
        return "reached" if ok else "**missed**"

    # QoS 1 targets use the half-window variant: it is the refill policy the
    # link itself uses (server/link/window_refill.h).
    r1 = ratio(get("session_halfwin", 1, 1024, "msgs_per_s"),
               get("paho", 1, 1024, "msgs_per_s"))
    w(f"| QoS 1, 1 KiB: ≥ 2× Paho msgs/s (half-window refill, as the link) | "
      f"{fmt(r1)}× | {verdict(None if r1 is None else r1 >= 2)} |")
    c1 = ratio(get("session_halfwin", 1, 1024, "cpu_s_per_100k"),
               get("paho", 1, 1024, "cpu_s_per_100k"))
    w(f"| QoS 1, 1 KiB: ≤ ½ Paho CPU per message (half-window refill) | "
      f"{fmt(c1)}× | {verdict(None if c1 is None else c1 <= 0.5)} |")
    r0 = ratio(get("session", 0, 64, "msgs_per_s"),
               get("paho", 0, 64, "msgs_per_s"))
    w(f"| QoS 0, 64 B: ≥ 3× Paho msgs/s | {fmt(r0)}× | "
      f"{verdict(None if r0 is None else r0 >= 3)} |")
    bulk = get("session_halfwin", 1, 16384, "bytes_per_second")
    share = ratio(bulk, aes)
    w(f"| QoS 1, 16 KiB: payload ≥ 25% of single-core AES-128-GCM "
      f"(half-window refill) | "
      f"{fmt((bulk or 0) / 1e6, 1)} MB/s = {fmt((share or 0) * 100, 1)}% of "
      f"{fmt((aes or 0) / 1e6, 0)} MB/s | "
      f"{verdict(None if share is None else share >= 0.25)} |")
    if daemon is not None and "full_queue" in daemon:
        fq = daemon["full_queue"]
        limit = fq["queue_bytes"] / 1048576 + 32
        w(f"| cloudlinkd peak RSS under a full queue ≤ queue limit + 32 MiB | "
          f"{fq['peak_rss_mib']:.1f} MiB (limit {fq['queue_bytes'] / 1048576:.0f}"
          f" MiB + 32 = {limit:.0f} MiB"
          + (f"; of the current RSS {fq['rss_file_mib']:.1f} MiB are shared "
             f"library pages, {fq['rss_anon_mib']:.1f} MiB private"
             if "rss_anon_mib" in fq else "")
          + f") | {verdict(fq['peak_rss_mib'] <= limit)} |")
    else:
        w("| cloudlinkd peak RSS under a full queue ≤ queue limit + 32 MiB | "
          "– | not measured (see analysis) |")
    w("")

    if daemon is not None and daemon.get("runs"):
        daemon_targets(w, daemon, aes, verdict)

    if args.analysis and os.path.exists(args.analysis):
        with open(args.analysis) as f:
            w(f.read().rstrip("\n"))
        w("")
    sys.stdout.write("\n".join(out) + "\n")


def daemon_targets(w, daemon, aes, verdict):
    """The targets of the publish path through cloudlinkd, per way in."""
    runs = {(r["case"], r["client"]): r for r in daemon["runs"]}

    def per_msg(case, client, key):
        r = runs.get((case, client))
        if not r or r.get("error") or not r.get("messages"):
            return None
        return r.get(key, 0) / r["messages"]

    def rate(case, client):
        r = runs.get((case, client))
        if not r or r.get("error") or not r.get("seconds"):
            return None
        return r["messages"] / r["seconds"]

    def cpu_us(case, client):
        a = per_msg(case, client, "cpu_s")
        b = per_msg(case, client, "cloudlinkd_cpu_s")
        return None if a is None or b is None else (a + b) * 1e6

    w("## Targets of the daemon path (same run)")
    w("")
    w("Per way into cloudlinkd: the producer library over the publish socket "
      "(**socket**) and over the Publish RPC (**grpc**), against Paho C "
      "publishing to the same broker in the same run. CPU per message is "
      "cloudlinkd's plus the producer's.")
    w("")
    w("| target | socket | grpc | Paho | result (socket / grpc) |")
    w("|---|---|---|---|---|")

    def row(name, fn, paho_text, ok):
        vals = [fn(c) for c in ("socket", "grpc")]
        texts = [v[0] if v else "–" for v in vals]
        oks = [verdict(None if v is None else ok(v[1])) for v in vals]
        w(f"| {name} | {texts[0]} | {texts[1]} | {paho_text} | "
          f"{oks[0]} / {oks[1]} |")

    steady = "steady 200/s qos1 1KiB"
    paho_steady = cpu_us(steady, "paho")
    row("steady 200/s, AT_LEAST_ONCE 1 KiB: CPU per message ≤ Paho's",
        lambda c: None if cpu_us(steady, c) is None or paho_steady is None
        else (f"{cpu_us(steady, c):.0f} µs", cpu_us(steady, c) <= paho_steady),
        f"{fmt(paho_steady, 0)} µs", lambda ok: ok)
    b2b = "b2b qos1 1KiB"
    paho_b2b = cpu_us(b2b, "paho")
    row("back to back, AT_LEAST_ONCE 1 KiB: CPU per message ≤ ½ Paho's",
        lambda c: None if cpu_us(b2b, c) is None or paho_b2b is None
        else (f"{cpu_us(b2b, c):.1f} µs",
              cpu_us(b2b, c) <= paho_b2b / 2),
        f"{fmt(paho_b2b, 1)} µs", lambda ok: ok)
    paho_rate = rate(b2b, "paho")
    row("back to back, AT_LEAST_ONCE 1 KiB: ≥ 1.5× Paho msgs/s",
        lambda c: None if rate(b2b, c) is None or not paho_rate
        else (f"{fmt_rate(rate(b2b, c))} ({rate(b2b, c) / paho_rate:.2f}×)",
              rate(b2b, c) >= 1.5 * paho_rate),
        fmt_rate(paho_rate) if paho_rate else "–", lambda ok: ok)
    q0 = "b2b qos0 64B"
    paho_q0 = rate(q0, "paho")
    row("back to back, AT_MOST_ONCE 64 B: ≥ 5× Paho msgs/s",
        lambda c: None if rate(q0, c) is None or not paho_q0
        else (f"{fmt_rate(rate(q0, c))} ({rate(q0, c) / paho_q0:.2f}×)",
              rate(q0, c) >= 5 * paho_q0),
        fmt_rate(paho_q0) if paho_q0 else "–", lambda ok: ok)
    row("steady 200/s: ≤ 3 context switches per message in cloudlinkd",
        lambda c: None if per_msg(steady, c, "cloudlinkd_switches") is None
        else (f"{per_msg(steady, c, 'cloudlinkd_switches'):.2f}",
              per_msg(steady, c, "cloudlinkd_switches") <= 3),
        "–", lambda ok: ok)
    big = "b2b qos1 16KiB"
    aes_us = 16384 / aes * 1e6 if aes else None
    row("back to back, AT_LEAST_ONCE 16 KiB: cloudlinkd CPU per message ≤ 3× "
        "AES-128-GCM of its bytes",
        lambda c: None if per_msg(big, c, "cloudlinkd_cpu_s") is None
        or aes_us is None
        else (f"{per_msg(big, c, 'cloudlinkd_cpu_s') * 1e6:.1f} µs "
              f"({per_msg(big, c, 'cloudlinkd_cpu_s') * 1e6 / aes_us:.1f}×)",
              per_msg(big, c, "cloudlinkd_cpu_s") * 1e6 <= 3 * aes_us),
        f"AES: {fmt(aes_us, 1)} µs", lambda ok: ok)
    ctl = [t for t in daemon.get("throughput", [])
           if t["level"].endswith("AT_LEAST_ONCE") and t["payload"] == 1024]
    if ctl and paho_rate:
        r = ctl[0]["msgs_per_s"]
        w(f"| `cloudlinkctl publish` from stdin, AT_LEAST_ONCE 1 KiB: ≥ Paho "
          f"msgs/s | {fmt_rate(r)} (gRPC) | | {fmt_rate(paho_rate)} | "
          f"{verdict(r >= paho_rate)} |")
    if "idle" in daemon:
        idle = daemon["idle"]
        w(f"| online and idle: ≤ 1 wake-up per second across cloudlinkd's "
          f"threads | {idle['switches_per_s']:.1f}/s over {idle['seconds']} s"
          f" | | | {verdict(idle['switches_per_s'] <= 1)} |")
    fq = daemon.get("full_queue", {})
    if "rss_after_drain_mib" in fq:
        before = fq.get("rss_before_fill_mib", 0)
        after = fq["rss_after_drain_mib"]
        w(f"| RSS after a full queue drains ≤ before + 16 MiB | "
          f"{after:.1f} MiB (before {before:.1f}) | | | "
          f"{verdict(after <= before + 16)} |")
    w("")


if __name__ == "__main__":
    main()

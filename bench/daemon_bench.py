#!/usr/bin/env python3
"""The whole daemon path: cloudlinkd, claimed against the real dev cloud,
fed through `cloudlinkctl publish` (the Publish RPC over the Unix socket).

  daemon_bench.py --bin BAZEL_BIN --out daemon.json [--queue-mib 64]

1. Throughput: N requests (JSON lines on cloudlinkctl's stdin) for
   AT_LEAST_ONCE 1 KiB and AT_MOST_ONCE 64 B; wall time from the start of
   cloudlinkctl to its last ack; CPU of cloudlinkd (/proc/PID/stat) and of
   cloudlinkctl (which parses the JSON) per 100 000 messages. The broker is
   the dev cloud's mosquitto (its own certificate and suites, ACLs, and a
   subscriber of its own), so these numbers are not comparable with
   e2e_bench's; they show what the daemon adds.
2. Full queue: the dev cloud's broker is stopped, cloudlinkd gets
   --queue-bytes=Q of 16 KiB AT_LEAST_ONCE messages (wait_when_full false)
   and some more, which must come back QUEUE_FULL; then cloudlinkd's peak RSS
   (VmHWM) is read.
Writes one JSON object to --out. Starts and stops every process it uses.
"""

import argparse
import base64
import json
import os
import resource
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise RuntimeError(f"timed out waiting for {what}")


def read_env(path):
    env = {}
    with open(path) as f:
        for line in f:
            key, _, value = line.strip().partition("=")
            env[key] = value.strip("'\"")
    return env


def proc_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is state (field 3); utime is field 14, stime 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_status_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


# gRPC 1.51's threads, by the names /proc gives them (15 characters).
GRPC_THREADS = ("grpc", "nexting_thread", "timer_manager", "event_engine",
                "default-executo", "resolver-execut")


def thread_switches(pid):
    """{tid: (name, context switches so far)} of every thread of `pid`."""
    threads = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            name, total = "", 0
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith("Name:"):
                        name = line.split(None, 1)[1].strip()
                    elif line.startswith(("voluntary_ctxt_switches:",
                                          "nonvoluntary_ctxt_switches:")):
                        total += int(line.split()[1])
            threads[tid] = (name, total)
        except FileNotFoundError:
            pass  # the thread ended meanwhile
    return threads


def grpc_running(pid):
    return any(name.startswith(GRPC_THREADS)
               for name, _ in thread_switches(pid).values())


def proc_switches(pid):
    """Context switches of every thread of `pid` so far."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches:",
                                        "nonvoluntary_ctxt_switches:")):
                        total += int(line.split()[1])
        except FileNotFoundError:
            pass  # the thread ended meanwhile
    return total


def producer_run(bin_dir, mode, args, daemon_pid):
    """Runs daemon_producer; returns its JSON plus cloudlinkd's usage."""
    cpu0 = proc_cpu_seconds(daemon_pid)
    sw0 = proc_switches(daemon_pid)
    out = subprocess.run(
        [os.path.join(bin_dir, "bench/daemon_producer"), mode] +
        [str(a) for a in args], capture_output=True, text=True, timeout=600)
    run = json.loads(out.stdout.strip().splitlines()[-1]) if out.stdout \
        else {"error": out.stderr[-500:]}
    run["cloudlinkd_cpu_s"] = proc_cpu_seconds(daemon_pid) - cpu0
    run["cloudlinkd_switches"] = proc_switches(daemon_pid) - sw0
    run["rss_mib"] = proc_status_kib(daemon_pid, "VmRSS") / 1024
    run["peak_rss_mib"] = proc_status_kib(daemon_pid, "VmHWM") / 1024
    return run


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def stop(process, timeout=10):
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Daemon:
    def __init__(self, bin_dir, work, queue_bytes):
        self.bin = bin_dir
        self.work = work
        self.queue_bytes = queue_bytes
        self.cloud = None
        self.daemon = None
        self.socket = os.path.join(work, "s.sock")

    def ctl(self, *args, stdin=None, timeout=None, check=True):
        cmd = [os.path.join(self.bin, "client/cloudlinkctl"), "--socket",
               self.socket] + list(args)
        return subprocess.run(cmd, stdin=stdin, capture_output=True, text=True,
                              timeout=timeout, check=check)

    def start(self):
        cloud_dir = os.path.join(self.work, "cloud")
        os.makedirs(cloud_dir)
        self.cloud = subprocess.Popen(
            [os.path.join(self.bin, "tools/devcloud/devcloud"), "--dir",
             cloud_dir, "--host", "127.0.0.1"],
            stdout=open(os.path.join(self.work, "devcloud.log"), "w"),
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        env_path = os.path.join(cloud_dir, "devcloud.env")
        wait_for(lambda: os.path.exists(env_path), 30, "the dev cloud")
        self.env = read_env(env_path)
        self.daemon = subprocess.Popen(
            [os.path.join(self.bin, "server/cloudlinkd"), "--socket",
             self.socket, "--config-dir", os.path.join(self.work, "etc"),
             "--lib-dir", os.path.join(self.work, "lib"), "--cloud-ca",
             self.env["CLOUD_CA"], f"--queue-bytes={self.queue_bytes}"],
            stdout=open(os.path.join(self.work, "cloudlinkd.log"), "w"),
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        wait_for(lambda: os.path.exists(self.socket), 10, "cloudlinkd's socket")
        self.ctl("claim", "--token", self.env["CLAIM_TOKEN"], "--rooms",
                 self.env["ROOMS"], "--url", self.env["CLOUD_URL"], "--proxy",
                 "none", timeout=30)
        wait_for(lambda: self.online(), 30, "the node to come online")

    def state(self):
        out = self.ctl("--json", "get-state", timeout=10).stdout
        return json.loads(out)

    def online(self):
        return bool(self.state().get("online"))

    def dev_post(self, path):
        context = ssl.create_default_context(cafile=self.env["CLOUD_CA"])
        request = urllib.request.Request(
            self.env["CLOUD_URL"] + path, data=b"{}", method="POST",
            headers={"Authorization": "Bearer " + self.env["ADMIN_API_TOKEN"],
                     "Content-Type": "application/json"})
        with urllib.request.urlopen(request, context=context, timeout=20) as r:
            r.read()

    def publish(self, lines_path, timeout):
        """Runs cloudlinkctl publish; returns (seconds, stdout, rc)."""
        with open(lines_path) as stdin:
            start = time.monotonic()
            result = self.ctl("--json", "--timeout", str(timeout), "publish",
                              stdin=stdin, timeout=timeout + 30, check=False)
            return time.monotonic() - start, result.stdout, result.returncode

    def stop(self):
        stop(self.daemon)
        stop(self.cloud)


def write_requests(path, count, size, level, topic):
    payload = base64.b64encode(b"p" * size).decode()
    with open(path, "w") as f:
        for i in range(count):
            f.write(json.dumps({"id": str(i + 1), "topic": topic,
                                "payload": payload, "level": level}) + "\n")


def count_acks(text):
    """(acks, failed acks, QUEUE_FULL acks) from cloudlinkctl --json output."""
    decoder = json.JSONDecoder()
    acks = failed = full = 0
    index = 0
    text = text.strip()
    while index < len(text):
        obj, end = decoder.raw_decode(text, index)
        index = end
        while index < len(text) and text[index].isspace():
            index += 1
        acks += 1
        if obj.get("code", 0) not in (0, "0"):
            failed += 1
        if "QUEUE_FULL" in obj.get("message", ""):
            full += 1
    return acks, failed, full


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--queue-mib", type=int, default=64)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        os.environ.pop(name, None)

    work = tempfile.mkdtemp(prefix="cld.", dir="/tmp")
    queue_bytes = args.queue_mib << 20
    daemon = Daemon(args.bin, work, queue_bytes)
    result = {"topic": "node-instance-info", "throughput": []}
    try:
        daemon.start()
        pid = daemon.daemon.pid
        result["rss_online_mib"] = proc_status_kib(pid, "VmRSS") / 1024
        for level, size, count in (
                ("DELIVERY_LEVEL_AT_LEAST_ONCE", 1024, 20000),
                ("DELIVERY_LEVEL_AT_MOST_ONCE", 64, 50000)):
            count = max(100, int(count * args.scale))
            lines = os.path.join(work, "requests.jsonl")
            write_requests(lines, count, size, level, result["topic"])
            cpu_before = proc_cpu_seconds(pid)
            ctl_before = children_cpu()
            seconds, out, rc = daemon.publish(lines, 300)
            daemon_cpu = proc_cpu_seconds(pid) - cpu_before
            ctl_cpu = children_cpu() - ctl_before
            acks, failed, _ = count_acks(out)
            result["throughput"].append({
                "level": level, "payload": size, "messages": count,
                "acks": acks, "failed": failed, "exit": rc,
                "msgs_per_s": count / seconds,
                "payload_MB_per_s": count * size / seconds / 1e6,
                "cloudlinkd_cpu_s_per_100k": daemon_cpu * 1e5 / count,
                "cloudlinkctl_cpu_s_per_100k": ctl_cpu * 1e5 / count,
            })

        # The producer library and Paho, same broker, same workloads.
        claim = daemon.state().get("claimedId") or daemon.state().get(
            "claimed_id", "")
        paho_base = ["--url", f"wss://localhost:{daemon.env['BROKER_PORT']}"
                     "/mqtt", "--ca", daemon.env["CLOUD_CA"], "--user",
                     daemon.env["BROKER_ADMIN_USER"], "--password",
                     daemon.env["BROKER_ADMIN_PASSWORD"], "--topic",
                     f"/agent/{claim}/outbound/v1/bench-paho"]
        cases = [  # (name, qos, payload, count, rate)
            ("b2b qos1 1KiB", 1, 1024, 20000, 0),
            ("b2b qos0 64B", 0, 64, 100000, 0),
            ("b2b qos1 16KiB", 1, 16384, 4000, 0),
            ("steady 200/s qos1 1KiB", 1, 1024, 1000, 200),
            ("steady 2000/s qos1 1KiB", 1, 1024, 6000, 2000),
            ("steady 20000/s qos1 1KiB", 1, 1024, 40000, 20000),
        ]
        result["runs"] = []
        for name, qos, size, count, rate in cases:
            count = max(100, int(count * args.scale))
            common = ["--count", count, "--payload", size, "--qos", qos,
                      "--rate", rate]
            publish_socket = os.path.join(os.path.dirname(daemon.socket),
                                          "publish.sock")
            for client, mode, extra in (
                    ("socket", "producer", ["--publish_socket",
                                            publish_socket]),
                    ("grpc", "producer", ["--socket", daemon.socket]),
                    ("paho", "paho", paho_base)):
                run = producer_run(args.bin, mode, extra + common, pid)
                run.update({"case": name, "client": client, "qos": qos,
                            "payload": size, "rate": rate})
                result["runs"].append(run)

        # Idle: wake-ups of cloudlinkd's threads while online and idle. gRPC
        # stops --api-idle-stop (10 s) after the last API connection closed
        # (docs/operating.md); the window starts once it has.
        idle_s = 60 if args.scale >= 1 else 10
        t0 = time.monotonic()
        wait_for(lambda: not grpc_running(pid), 60, "gRPC to stop when idle")
        grpc_stop_s = time.monotonic() - t0
        before = thread_switches(pid)
        time.sleep(idle_s)
        after = thread_switches(pid)
        both = [tid for tid in after if tid in before]
        woke = sum(after[t][1] - before[t][1] for t in both)
        result["idle"] = {"seconds": idle_s,
                          "switches_per_s": woke / idle_s,
                          "threads": len(after),
                          "threads_changed": len(set(before) ^ set(after)),
                          "grpc_stopped_after_s": round(grpc_stop_s, 1)}

        # Full queue: nothing drains while the broker is down.
        daemon.dev_post("/_dev/broker/stop")
        wait_for(lambda: not daemon.online(), 30, "the node to go offline")
        size = 16384
        count = queue_bytes // size + 256
        lines = os.path.join(work, "fill.jsonl")
        write_requests(lines, count, size, "DELIVERY_LEVEL_AT_LEAST_ONCE",
                       result["topic"])
        rss_before = proc_status_kib(pid, "VmHWM") / 1024
        rss_before_fill = proc_status_kib(pid, "VmRSS") / 1024
        # Queued messages are never acknowledged here: the call ends at its
        # deadline, after every over-the-limit request got QUEUE_FULL.
        _, out, _ = daemon.publish(lines, 20)
        _, _, full = count_acks(out)
        state = daemon.state()
        result["full_queue"] = {
            "queue_bytes": queue_bytes,
            "requests": count,
            "payload": size,
            "queue_full_acks": full,
            "queued": state.get("publish", {}).get("queued"),
            "peak_rss_before_fill_mib": rss_before,
            "peak_rss_mib": proc_status_kib(pid, "VmHWM") / 1024,
            "rss_mib": proc_status_kib(pid, "VmRSS") / 1024,
            "rss_before_fill_mib": rss_before_fill,
            # Of the RSS: pages of mapped files (the shared libraries, the
            # same pages every process linking them uses) and private memory.
            "rss_file_mib": proc_status_kib(pid, "RssFile") / 1024,
            "rss_anon_mib": proc_status_kib(pid, "RssAnon") / 1024,
        }
        # The broker comes back; the queue drains; memory should go back.
        daemon.dev_post("/_dev/broker/start")
        wait_for(lambda: daemon.online(), 60, "the node to come back")
        wait_for(lambda: str(daemon.state().get("publish", {}).get(
            "queued", "0")) in ("0", "None"), 120, "the queue to drain")
        time.sleep(1)  # the last batch's PUBACKs
        result["full_queue"]["rss_after_drain_mib"] = proc_status_kib(
            pid, "VmRSS") / 1024
    except Exception as error:  # reported in the results, not hidden
        result["error"] = f"{type(error).__name__}: {error}"
        for log in ("cloudlinkd.log", "devcloud.log"):
            path = os.path.join(work, log)
            if os.path.exists(path):
                with open(path) as f:
                    result.setdefault("log_tail", {})[log] = f.read()[-1500:]
    finally:
        daemon.stop()
        shutil.rmtree(work, ignore_errors=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
    return 0 if "error" not in result else 1


if __name__ == "__main__":
    sys.exit(main())

"""Shared helpers of the benchmarks: a release csphub on its own database and port, tokens,
HTTP and psql. Standard library only (python3 and psql are on every machine of this kind)."""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# CSPHUB_BENCH_BIN measures another build (an older one, say) instead of this checkout's.
BIN = os.environ.get("CSPHUB_BENCH_BIN") or os.path.join(ROOT, "target", "release", "csphub")
PG = os.environ.get("CSPHUB_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
SECRET = "bench-development-secret-0123456789abcdef"


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def build():
    if os.environ.get("CSPHUB_BENCH_BIN"):
        log(f"measuring {BIN} (CSPHUB_BENCH_BIN)")
        return
    log("building csphub (release)...")
    subprocess.run(["cargo", "build", "--release", "-q", "--bin", "csphub"], cwd=ROOT, check=True)


def psql(db, sql=None, file=None, quiet=True):
    cmd = ["psql", f"{PG}/{db}", "-v", "ON_ERROR_STOP=1", "-X", "-q", "-At"]
    cmd += ["-f", file] if file else ["-c", sql]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return out.stdout.strip()


def fresh_database(name):
    psql("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Server:
    """`csphub serve --demo` on a database and port of its own."""

    def __init__(self, db, port, binary=BIN, extra_env=None):
        self.db, self.port = db, port
        env = dict(os.environ, DATABASE_URL=f"{PG}/{db}", CSPHUB_BIND=f"127.0.0.1:{port}",
                   CSPHUB_DEV_JWT_SECRET=SECRET, RUST_LOG="warn", **(extra_env or {}))
        self.proc = subprocess.Popen([binary, "serve", "--demo"], env=env, stdout=subprocess.DEVNULL)
        for _ in range(600):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1)
                return
            except Exception:
                time.sleep(0.1)
        raise SystemExit("csphub did not become ready")

    def peak_rss_mb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def token(role, agency, partnership="stevenage", caps=()):
    env = dict(os.environ, CSPHUB_DEV_JWT_SECRET=SECRET)
    cmd = [BIN, "token", "--role", role, "--agency", agency, "--partnership", partnership]
    for cap in caps:
        cmd += ["--cap", cap]
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    return out.stdout.strip()


def post(url, body, token, content_type="application/json"):
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": content_type, "Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=600) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        raise SystemExit(f"HTTP {e.code}: {e.read()[:500]!r}")


def generate_incidents(db, n):
    """`n` incidents of Stevenage in 2016/17, generated inside PostgreSQL (fast, and the push is
    not what is measured)."""
    psql(db, f"""
      INSERT INTO incidents (source_agency_id, external_ref, partnership_id, category, occurred_at, occurred_on,
        area_id, postcode_district, domestic_abuse, alcohol_related, youth_related, status, content_hash, pushed_by_sub)
      SELECT ag.id, 'STATS-' || g, p.id, (ARRAY['violent-crime','burglary','vehicle-crime','criminal-damage-arson',
               'shoplifting','other-theft','drugs','public-order','robbery','anti-social-behaviour'])[1 + g % 10],
             t, (t AT TIME ZONE 'Europe/London')::date, (SELECT id FROM areas WHERE partnership_id = p.id ORDER BY code
             OFFSET g % 13 LIMIT 1), 'SG1', g % 11 = 0, g % 5 = 0, g % 7 = 0, 'ACTIVE', md5(g::text), 'bench'
      FROM generate_series(1, {n}) g
      CROSS JOIN LATERAL (SELECT timestamptz '2016-04-01 00:00+01' + (g % 364) * interval '1 day' + (g % 1440) * interval '1 minute' AS t) tt
      CROSS JOIN (SELECT id FROM agencies WHERE slug = 'herts-police') ag
      CROSS JOIN (SELECT id FROM partnerships WHERE slug = 'stevenage') p;
      ANALYZE incidents;""")


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2

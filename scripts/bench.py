#!/usr/bin/env python3
"""Times signet against cosign on the same machine and registry, in one run.

Run through scripts/bench.sh, which builds signet in release mode, starts a
registry on a free loopback port and exports:
  SIGNET_BIN, COSIGN_BIN, SKOPEO_BIN, SIGNET_TEST_REGISTRY, SIGNET_RUN
Prints a Markdown table of medians and ratios (cosign / signet) and writes
it to $SIGNET_RUN/bench.md as well.

Both tools use the same key files (a signet-generated cosign key pair),
the same images, and skip the transparency log (signet has no Rekor client
yet; cosign is told --tlog-upload=false / --insecure-ignore-tlog so that
neither talks to anything but the local registry).
"""
import json, os, statistics, subprocess, sys, tempfile, time

SIGNET = os.environ["SIGNET_BIN"]
COSIGN = os.environ["COSIGN_BIN"]
SKOPEO = os.environ["SKOPEO_BIN"]
REG = os.environ["SIGNET_TEST_REGISTRY"]
RUN = os.environ["SIGNET_RUN"]
BATCH = int(os.environ.get("BENCH_BATCH", "100"))
# Batch verification is measured at each of these sizes (one invocation each).
VERIFY_BATCHES = [int(n) for n in os.environ.get("BENCH_VERIFY_BATCHES", "50,100").split(",")]
# Concurrent signers on one image: (processes, runs for signet, runs for cosign).
RACES = [tuple(int(x) for x in r.split(":")) for r in os.environ.get("BENCH_RACES", "20:5:3,50:3:1").split(",")]
REPS_SINGLE = int(os.environ.get("BENCH_REPS", "15"))
REPS_BATCH = int(os.environ.get("BENCH_BATCH_REPS", "3"))
REPS_VERIFY_BATCH = int(os.environ.get("BENCH_VERIFY_BATCH_REPS", "7"))
HERE = os.path.dirname(os.path.abspath(__file__))

work = tempfile.mkdtemp(dir=RUN)
home = os.path.join(work, "home")
os.makedirs(os.path.join(home, "tuf"))
ENV = dict(os.environ, HOME=home, TUF_ROOT=os.path.join(home, "tuf"), COSIGN_PASSWORD="bench")
for var in ("COSIGN_REPOSITORY", "DOCKER_CONFIG", "REGISTRY_AUTH_FILE"):
    ENV.pop(var, None)


def run(cmd, check=True):
    p = subprocess.run(cmd, cwd=work, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if check and p.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd[:3])}… failed ({p.returncode}): {p.stderr.decode()[-500:]}")
    return p


def timed(cmd):
    t = time.perf_counter()
    run(cmd)
    return time.perf_counter() - t


def timed_many(cmds):
    t = time.perf_counter()
    for c in cmds:
        run(c)
    return time.perf_counter() - t


layout = os.path.join(work, "layout")
pool_size = 2 * REPS_SINGLE + 2 * BATCH * REPS_BATCH + BATCH + max(VERIFY_BATCHES) + 1 + sum(s + c for _, s, c in RACES) + 10
print(f"bench: making and pushing {pool_size} images to {REG}", file=sys.stderr)
subprocess.run([sys.executable, os.path.join(HERE, "mk-oci-layout.py"), layout, "bench", str(pool_size)], check=True, stdout=subprocess.DEVNULL)
pool = []
for n in range(pool_size):
    ref = f"{REG}/bench/img{n}:v1"
    run([SKOPEO, "--insecure-policy", "copy", "-q", "--dest-tls-verify=false", f"oci:{layout}:img{n}", f"docker://{ref}"])
    pool.append(ref)
take = iter(pool)

run([SIGNET, "generate-key-pair", "--output-key-prefix", "bench"])
S_SIGN = [SIGNET, "sign", "--key", "bench.key", "--allow-http-registry", "--tlog-upload=false"]
C_SIGN = [COSIGN, "sign", "--key", "bench.key", "--allow-http-registry", "--tlog-upload=false", "--yes"]
S_VERIFY = [SIGNET, "verify", "--key", "bench.pub", "--allow-http-registry", "--insecure-ignore-tlog"]
C_VERIFY = [COSIGN, "verify", "--key", "bench.pub", "--allow-http-registry", "--insecure-ignore-tlog"]

results = []


def record(name, signet_times, cosign_times, note=""):
    s, c = statistics.median(signet_times), statistics.median(cosign_times)
    results.append((name, s, c, c / s, f"{len(signet_times)}/{len(cosign_times)}", note))
    print(f"bench: {name}: signet {s*1000:.0f} ms, cosign {c*1000:.0f} ms, ratio {c/s:.1f}x", file=sys.stderr)


# Warm both binaries and the registry once.
warm = next(take)
run(S_SIGN + [warm]); run(S_VERIFY + [warm]); run(C_VERIFY + [warm])

# 1. Verify one image (signed once, by signet; both tools verify the same signature).
s_t, c_t = [], []
for _ in range(REPS_SINGLE):
    s_t.append(timed(S_VERIFY + [warm]))
    c_t.append(timed(C_VERIFY + [warm]))
record("verify 1 image", s_t, c_t)

# 2. Sign one fresh image (includes decrypting the key: scrypt N=65536 in both).
s_t, c_t = [], []
for _ in range(REPS_SINGLE):
    s_t.append(timed(S_SIGN + [next(take)]))
    c_t.append(timed(C_SIGN + [next(take)]))
record("sign 1 image", s_t, c_t)

# 3. Sign 100 fresh images: signet in one invocation; cosign with all
#    references in one invocation (it accepts several), and as a loop of one
#    process per image (how a pipeline usually drives it).
s_t, c_t = [], []
for _ in range(REPS_BATCH):
    s_t.append(timed(S_SIGN + [next(take) for _ in range(BATCH)]))
    c_t.append(timed(C_SIGN + [next(take) for _ in range(BATCH)]))
record(f"sign {BATCH} images, one invocation", s_t, c_t)
c_loop = [timed_many([C_SIGN + [next(take)] for _ in range(BATCH)])]
record(f"sign {BATCH} images, cosign as a loop", s_t, c_loop, "signet: one invocation; cosign: one process per image")
batch_verify = [next(take) for _ in range(max(VERIFY_BATCHES))]
run(S_SIGN + batch_verify)

# 4. Verify 50 and 100 signed images: each tool given all references in one
#    invocation, and cosign also as a loop of one process per image.
for size in VERIFY_BATCHES:
    refs = batch_verify[:size]
    s_t, c_t, c_loop_v = [], [], []
    for _ in range(REPS_VERIFY_BATCH):
        s_t.append(timed(S_VERIFY + refs))
        c_t.append(timed(C_VERIFY + refs))
    record(f"verify {size} images, one invocation", s_t, c_t)
    if size == max(VERIFY_BATCHES):
        for _ in range(REPS_BATCH):
            c_loop_v.append(timed_many([C_VERIFY + [r] for r in refs]))
        record(f"verify {size} images, cosign as a loop", s_t, c_loop_v, "signet: one invocation; cosign: one process per image")

# 5. Concurrent signers on one image: how many signatures survive. Each run:
#    N processes with N different keys start at once on a fresh image. signet
#    also reports how often a signer had to merge its signature again.
for n in range(max(n for n, _, _ in RACES)):
    run([SIGNET, "generate-key-pair", "--output-key-prefix", f"race{n}"])


def signature_layers(image):
    base = f"http://{image.replace(':v1', '').replace(REG, REG + '/v2', 1)}"
    accept = ["-H", "Accept: application/vnd.oci.image.manifest.v1+json"]
    head = subprocess.run(["curl", "-sfI", *accept, f"{base}/manifests/v1"], capture_output=True, text=True).stdout
    digest = next(l.split(":", 1)[1].strip() for l in head.splitlines() if l.lower().startswith("docker-content-digest"))
    sig = subprocess.run(["curl", "-sf", *accept, f"{base}/manifests/sha256-{digest.split(':')[1]}.sig"],
                         capture_output=True, text=True).stdout
    return len(json.loads(sig)["layers"]) if sig else 0


race = []
for signers, signet_runs, cosign_runs in RACES:
    for tool, base, runs in (("signet", S_SIGN, signet_runs), ("cosign", C_SIGN, cosign_runs)):
        kept, merged, seconds = [], 0, []
        for _ in range(runs):
            image = next(take)
            t = time.perf_counter()
            procs = [subprocess.Popen([base[0], *base[1:3], f"race{n}.key", *base[4:], image], cwd=work, env=ENV,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for n in range(signers)]
            for p in procs:
                _, err = p.communicate()
                merged += err.decode(errors="replace").count("merged again")
            seconds.append(time.perf_counter() - t)
            kept.append(signature_layers(image))
        if runs:
            race.append((tool, signers, kept, merged, statistics.median(seconds)))
            print(f"bench: {signers} concurrent signers, {tool}: signatures kept per run {kept}", file=sys.stderr)

cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True, text=True).stdout.strip()
versions = {
    "signet": subprocess.run([SIGNET, "version"], capture_output=True, text=True).stdout.strip(),
    "cosign": "cosign " + os.environ.get("COSIGN_VERSION", "?"),
}
lines = [
    f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {os.cpu_count()} cores ({cpu}); "
    f"{versions['signet']} (release build) vs {versions['cosign']}, registry: Distribution 2.8 on 127.0.0.1.",
    "",
    "| operation | runs (signet/cosign) | signet median | cosign median | signet / cosign | cosign / signet |",
    "|---|---:|---:|---:|---:|---:|",
]
for name, s, c, ratio, n, note in results:
    lines.append(f"| {name}{' (' + note + ')' if note else ''} | {n} | {s*1000:.0f} ms | {c*1000:.0f} ms | {s/c:.2f} | {ratio:.1f}x |")
lines += [
    "",
    "Concurrent signers: N processes with N different keys sign one fresh image at the same moment.",
    "",
    "| tool | signers | signatures kept per run | \"merged again\" notices, all runs | median run time |",
    "|---|---:|---|---:|---:|",
]
for tool, signers, kept, merged, seconds in race:
    merged_text = str(merged) + " merges" if tool == "signet" else "n/a"
    lines.append(f"| {tool} | {signers} | {', '.join(map(str, kept))} | {merged_text} | {seconds:.1f} s |")
table = "\n".join(lines) + "\n"
with open(os.path.join(RUN, "bench.md"), "w") as f:
    f.write(table)
print(table)

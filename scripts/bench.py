#!/usr/bin/env python3
"""Times signet against cosign on the same machine and registry, in one run.

Run through scripts/bench.sh, which builds signet in release mode, starts a
registry on a free loopback port and exports:
  SIGNET_BIN, COSIGN_BIN, SKOPEO_BIN, SIGNET_TEST_REGISTRY, SIGNET_RUN
Prints a Markdown table of medians and ratios (cosign / signet) and writes
it to $SIGNET_RUN/bench.md as well.

Both tools use the same key files (a signet-generated cosign key pair),
the same images, and skip the transparency log (they are told
--tlog-upload=false / --insecure-ignore-tlog so that neither talks to
anything but the local registry).

The keyless part (first; alone with BENCH_ONLY=keyless) verifies what cosign
signed keylessly against the mock Sigstore on loopback (SIGNET_TEST_SIGSTORE_*,
tokens from signet-test-oidc at SIGNET_TEST_OIDC_URL): a blob bundle with
signet, cosign, sigstore-go and sigstore-python, and an image signature with
signet and cosign. Every tool verifies offline from the same trust files
(the mock's trusted root, or cosign's SIGSTORE_* variables pointing at the
same keys), and anything that tries to leave loopback hits a closed port.
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
LOAD_AT_START = os.getloadavg()[0]
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


REGISTRY_PID = open(os.path.join(RUN, "registry.pid")).read().strip()
TICK = os.sysconf("SC_CLK_TCK")


def registry_cpu():
    """CPU seconds the registry process has used so far (user + system)."""
    fields = open(f"/proc/{REGISTRY_PID}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def timed_with_registry_cpu(cmd, cpu_list):
    before = registry_cpu()
    t = timed(cmd)
    cpu_list.append(registry_cpu() - before)
    return t


def timed_many(cmds):
    t = time.perf_counter()
    for c in cmds:
        run(c)
    return time.perf_counter() - t



def keyless_bench():
    """Keyless verification against cosign, sigstore-go and sigstore-python."""
    mock = os.environ["SIGNET_TEST_SIGSTORE_URL"]
    trust = os.environ["SIGNET_TEST_SIGSTORE_DIR"]
    oidc = os.environ["SIGNET_TEST_OIDC_URL"]
    go, python = os.environ["SIGSTORE_GO_BIN"], os.environ["SIGSTORE_PYTHON_BIN"]
    email, issuer = "bench@example.test", "https://oidc.signet.test"
    env = dict(ENV,
               SIGSTORE_ROOT_FILE=os.path.join(trust, "fulcio-root.pem"),
               SIGSTORE_REKOR_PUBLIC_KEY=os.path.join(trust, "rekor.pub"),
               SIGSTORE_CT_LOG_PUBLIC_KEY_FILE=os.path.join(trust, "ctlog.pub"),
               SIGSTORE_TSA_CERTIFICATE_FILE=os.path.join(trust, "tsa-chain.pem"),
               HTTPS_PROXY="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9", NO_PROXY="127.0.0.1,localhost")

    def krun(cmd):
        p = subprocess.run(cmd, cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if p.returncode != 0:
            sys.exit(f"bench: {' '.join(cmd[:3])}… failed ({p.returncode}): {p.stderr.decode()[-800:]}")

    def ktimed(cmd):
        t = time.perf_counter()
        krun(cmd)
        return time.perf_counter() - t

    token = subprocess.run(
        ["curl", "-sf", "-H", "Content-Type: application/json", "-d",
         json.dumps({"profile": "email", "email": email, "claims": {"iss": issuer}}), f"{oidc}/_test/token"],
        check=True, capture_output=True, text=True).stdout.strip()
    with open(os.path.join(work, "kblob"), "wb") as f:
        f.write(b"keyless benchmark artefact\n")
    krun([COSIGN, "sign-blob", "--yes", "--fulcio-url", mock, "--rekor-url", mock, "--identity-token", token,
          "--new-bundle-format", "--bundle", "kblob.sigstore.json", "kblob"])
    kimage = f"{REG}/bench/keyless:v1"
    run([SKOPEO, "--insecure-policy", "copy", "-q", "--dest-tls-verify=false", f"oci:{layout}:img0", f"docker://{kimage}"])
    krun([COSIGN, "sign", "--yes", "--allow-http-registry", "--fulcio-url", mock, "--rekor-url", mock,
          "--identity-token", token, kimage])

    root, compat = os.path.join(trust, "trusted_root.json"), os.path.join(trust, "trusted_root.compat.json")
    who = ["--certificate-identity", email, "--certificate-oidc-issuer", issuer]
    blob_cmds = {
        "signet": [SIGNET, "verify-blob", "--bundle", "kblob.sigstore.json", "--trusted-root", root, *who, "kblob"],
        "cosign": [COSIGN, "verify-blob", "--new-bundle-format", "--bundle", "kblob.sigstore.json",
                   "--trusted-root", compat, *who, "kblob"],
        "sigstore-go": [go, "-trustedrootJSONpath", compat, "-expectedSAN", email, "-expectedIssuer", issuer,
                        "-artifact", "kblob", "kblob.sigstore.json"],
        "sigstore-python": [python, "--trust-config", os.path.join(trust, "client_trust_config.json"), "verify",
                            "identity", "--offline", "--bundle", "kblob.sigstore.json", "--cert-identity", email,
                            "--cert-oidc-issuer", issuer, "kblob"],
    }
    image_cmds = {
        "signet": [SIGNET, "verify", "--allow-http-registry", *who, kimage],
        "cosign": [COSIGN, "verify", "--allow-http-registry", *who, kimage],
    }
    rows = []
    for name, cmds in (("verify-blob --bundle (keyless, v0.3)", blob_cmds), ("verify IMAGE (keyless, .sig)", image_cmds)):
        for c in cmds.values():
            krun(c)  # warm
        times = {tool: [] for tool in cmds}
        for _ in range(REPS_SINGLE):
            for tool, c in cmds.items():
                times[tool].append(ktimed(c))
        med = {tool: statistics.median(t) for tool, t in times.items()}
        rows.append((name, med, REPS_SINGLE))
        print(f"bench: {name}: " + ", ".join(f"{t} {m*1000:.0f} ms" for t, m in med.items()), file=sys.stderr)
    return rows


def keyless_table(rows):
    lines = ["| operation | runs | signet | cosign | sigstore-go | sigstore-python | cosign / signet | sigstore-go / signet | sigstore-python / signet |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, med, n in rows:
        # Tenths of a millisecond below 10 ms, where a whole one would hide the ratio.
        cell = lambda t: ("n/a" if t not in med else
                          f"{med[t]*1000:.1f} ms" if med[t] < 0.01 else f"{med[t]*1000:.0f} ms")
        ratio = lambda t: f"{med[t]/med['signet']:.1f}x" if t in med else "n/a"
        lines.append(f"| {name} | {n} | {cell('signet')} | {cell('cosign')} | {cell('sigstore-go')} | {cell('sigstore-python')} "
                     f"| {ratio('cosign')} | {ratio('sigstore-go')} | {ratio('sigstore-python')} |")
    cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True, text=True).stdout.strip()
    head = (f"Keyless verification, measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {os.cpu_count()} cores ({cpu}); "
            f"{subprocess.run([SIGNET, 'version'], capture_output=True, text=True).stdout.strip()} (release build), "
            f"cosign {os.environ.get('COSIGN_VERSION', '?')}, sigstore-go {os.environ.get('SIGSTORE_GO_VERSION', '?')}, "
            f"{subprocess.run([os.environ['SIGSTORE_PYTHON_BIN'], '--version'], capture_output=True, text=True).stdout.strip()}.")
    return head + "\n\n" + "\n".join(lines) + "\n"


layout = os.path.join(work, "layout")
if os.environ.get("BENCH_ONLY") == "keyless":
    subprocess.run([sys.executable, os.path.join(HERE, "mk-oci-layout.py"), layout, "bench", "1"], check=True,
                   stdout=subprocess.DEVNULL)
    table = keyless_table(keyless_bench())
    with open(os.path.join(RUN, "bench.md"), "w") as f:
        f.write(table)
    print(table)
    sys.exit(0)
pool_size = 2 * REPS_SINGLE + 2 * BATCH * REPS_BATCH + BATCH + max(VERIFY_BATCHES) + 1 + sum(s + c for _, s, c in RACES) + 10
print(f"bench: making and pushing {pool_size} images to {REG}", file=sys.stderr)
subprocess.run([sys.executable, os.path.join(HERE, "mk-oci-layout.py"), layout, "bench", str(pool_size)], check=True, stdout=subprocess.DEVNULL)
pool = []
for n in range(pool_size):
    ref = f"{REG}/bench/img{n}:v1"
    run([SKOPEO, "--insecure-policy", "copy", "-q", "--dest-tls-verify=false", f"oci:{layout}:img{n}", f"docker://{ref}"])
    pool.append(ref)
take = iter(pool)
keyless_rows = keyless_bench()

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
registry_work = []
run(S_SIGN + batch_verify)

# 4. Verify 50 and 100 signed images: each tool given all references in one
#    invocation, and cosign also as a loop of one process per image.
for size in VERIFY_BATCHES:
    refs = batch_verify[:size]
    s_t, c_t, c_loop_v, s_cpu, c_cpu = [], [], [], [], []
    for _ in range(REPS_VERIFY_BATCH):
        s_t.append(timed_with_registry_cpu(S_VERIFY + refs, s_cpu))
        c_t.append(timed_with_registry_cpu(C_VERIFY + refs, c_cpu))
    record(f"verify {size} images, one invocation", s_t, c_t)
    registry_work.append((size, statistics.median(s_cpu), statistics.median(c_cpu)))
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
    f"{versions['signet']} (release build) vs {versions['cosign']}, registry: Distribution 2.8 on 127.0.0.1; "
    f"1-minute load average at the start {LOAD_AT_START:.1f}, at the end {os.getloadavg()[0]:.1f}.",
    "",
    "| operation | runs (signet/cosign) | signet median | cosign median | signet / cosign | cosign / signet |",
    "|---|---:|---:|---:|---:|---:|",
]
for name, s, c, ratio, n, note in results:
    lines.append(f"| {name}{' (' + note + ')' if note else ''} | {n} | {s*1000:.0f} ms | {c*1000:.0f} ms | {s/c:.2f} | {ratio:.1f}x |")
lines += [
    "",
    "Registry CPU time (user + system, from /proc) spent serving one batch verification, median:",
    "",
    "| images | for signet | for cosign | signet / cosign |",
    "|---:|---:|---:|---:|",
]
for size, s_cpu, c_cpu in registry_work:
    lines.append(f"| {size} | {s_cpu*1000:.0f} ms | {c_cpu*1000:.0f} ms | {s_cpu/c_cpu:.2f} |")
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
table = "\n".join(lines) + "\n\n" + keyless_table(keyless_rows)
with open(os.path.join(RUN, "bench.md"), "w") as f:
    f.write(table)
print(table)

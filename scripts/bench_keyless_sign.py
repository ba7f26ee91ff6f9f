"""Keyless sign-blob, signet vs cosign, against the mock Sigstore; see
bench-keyless-sign.sh. Wall-clock medians of whole invocations."""
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils

MOCK_DIR = os.environ["SIGNET_TEST_SIGSTORE_DIR"]
URL = os.environ["SIGNET_TEST_SIGSTORE_URL"]
COSIGN = os.path.join(os.environ["SIGNET_PEERS"], "bin", "cosign")
SIGNET, RUNS = sys.argv[1], int(sys.argv[2])


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token() -> str:
    """An ES256 ID token for an email identity (the mock does not check its signature)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = int(time.time())
    claims = {"iss": "https://issuer.example.test", "sub": "bench", "email": "bench@example.test",
              "email_verified": True, "aud": "sigstore", "iat": now, "exp": now + 3600}
    head = b64url(b'{"alg":"ES256","typ":"JWT"}') + "." + b64url(json.dumps(claims).encode())
    r, s = utils.decode_dss_signature(key.sign(head.encode(), ec.ECDSA(hashes.SHA256())))
    return head + "." + b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def main() -> None:
    work = tempfile.mkdtemp()
    with open(os.path.join(work, "blob"), "wb") as f:
        f.write(b"benchmark blob\n")
    env = dict(os.environ, HOME=work, TUF_ROOT=os.path.join(work, "tuf"),
               HTTPS_PROXY="http://127.0.0.1:9", NO_PROXY="127.0.0.1",
               SIGSTORE_ROOT_FILE=f"{MOCK_DIR}/fulcio-root.pem",
               SIGSTORE_REKOR_PUBLIC_KEY=f"{MOCK_DIR}/rekor.pub",
               SIGSTORE_CT_LOG_PUBLIC_KEY_FILE=f"{MOCK_DIR}/ctlog.pub",
               SIGSTORE_TSA_CERTIFICATE_FILE=f"{MOCK_DIR}/tsa-chain.pem")
    os.makedirs(env["TUF_ROOT"], exist_ok=True)
    services = ["--fulcio-url", URL, "--rekor-url", URL,
                "--timestamp-server-url", f"{URL}/api/v1/timestamp",
                "--identity-token", token(), "--yes"]

    def command(tool: str, i: int) -> list[str]:
        out = os.path.join(work, f"{tool}-{i}.sigstore.json")
        if tool == "signet":
            return [SIGNET, "sign-blob", "--trusted-root", f"{MOCK_DIR}/trusted_root.json",
                    *services, "--bundle", out, "blob"]
        return [COSIGN, "sign-blob", *services, "--new-bundle-format", "--bundle", out, "blob"]

    medians = {}
    for tool in ("signet", "cosign"):
        times = []
        for i in range(RUNS + 1):
            start = time.perf_counter()
            run = subprocess.run(command(tool, i), cwd=work, env=env, capture_output=True)
            elapsed = time.perf_counter() - start
            if run.returncode != 0:
                sys.exit(f"{tool} failed: {run.stderr.decode()[-400:]}")
            if i > 0:  # the first run warms the page cache
                times.append(elapsed)
        medians[tool] = statistics.median(times)
    print("| operation | runs | signet median | cosign median | cosign / signet |")
    print("|---|---:|---:|---:|---:|")
    print(f"| keyless sign-blob --bundle (Fulcio, TSA, Rekor v1) | {RUNS}/{RUNS} | "
          f"{medians['signet'] * 1000:.0f} ms | {medians['cosign'] * 1000:.0f} ms | "
          f"{medians['cosign'] / medians['signet']:.1f}x |")


if __name__ == "__main__":
    main()

"""The peers the mock is compared with, started on loopback for the same load: WireMock
standalone (the ``wiremock`` npm package ships the jar; Java from Debian), Prism and Mockoon
CLI (both import the canonical spec). Each one that is not installed is skipped, with the
line that installs it.

WireMock answers the very campaign JSON the mock answers (a stub mapping written here);
Prism and Mockoon answer the spec's example for getCampaign, a campaign of the same shape.
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

START_SECONDS = 60.0  # a JVM on a busy 2-core machine takes a while
SPEC = Path(__file__).resolve().parent.parent / "openapi" / "campaigns.yaml"
INSTALL = {
    "WireMock": "apt-get install openjdk-17-jre-headless && npm install -g wiremock",
    "Prism": "npm install -g @stoplight/prism-cli",
    "Mockoon": "npm install -g @mockoon/cli",
}


@dataclass
class Peer:
    name: str
    process: subprocess.Popen[bytes]
    url: str  # where its getCampaign answers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answering(url: str, process: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        try:
            request = urllib.request.Request(url, headers={"Authorization": "Bearer bench"})
            with urllib.request.urlopen(request, timeout=2) as answer:
                return bool(answer.status == 200)
        except urllib.error.HTTPError as refused:
            return refused.code == 200
        except OSError:
            time.sleep(0.25)
    return False


def _started(name: str, command: list[str], url: str, folder: Path) -> Peer | str:
    process = subprocess.Popen(command, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if _answering(url, process):
        return Peer(name, process, url)
    stop_peer(Peer(name, process, url))
    return f"{name} did not answer 200 at {url} within {START_SECONDS:.0f} s"


def wiremock_jar() -> Path | None:
    npm = shutil.which("npm")
    if npm is None:
        return None
    root = subprocess.run([npm, "root", "-g"], capture_output=True, text=True, timeout=30, check=False).stdout.strip()
    jars = sorted(Path(root, "wiremock").glob("**/wiremock-standalone-*.jar")) if root else []
    return jars[-1] if jars else None


def start_wiremock(folder: Path, campaign: dict[str, object]) -> Peer | str:
    jar, java = wiremock_jar(), shutil.which("java")
    if jar is None or java is None:
        return f"WireMock skipped (not installed): {INSTALL['WireMock']}"
    root = folder / "wiremock"
    (root / "mappings").mkdir(parents=True, exist_ok=True)
    path = f"/campaigns/{campaign['id']}"
    stub = {
        "request": {"method": "GET", "urlPath": path},
        "response": {"status": 200, "headers": {"Content-Type": "application/json"}, "jsonBody": campaign},
    }
    (root / "mappings" / "campaign.json").write_text(json.dumps(stub))
    port = free_port()
    command = [java, "-jar", str(jar), "--port", str(port), "--bind-address", "127.0.0.1"]
    command += ["--root-dir", str(root), "--disable-banner"]
    return _started(
        f"WireMock {jar.stem.removeprefix('wiremock-standalone-')}", command, f"http://127.0.0.1:{port}{path}", folder
    )


def start_prism(folder: Path, campaign_id: str) -> Peer | str:
    prism = shutil.which("prism")
    if prism is None:
        return f"Prism skipped (not installed): {INSTALL['Prism']}"
    port = free_port()
    command = [prism, "mock", str(SPEC), "-p", str(port), "-h", "127.0.0.1"]
    return _started("Prism mock", command, f"http://127.0.0.1:{port}/campaigns/{campaign_id}", folder)


def start_mockoon(folder: Path, campaign_id: str) -> Peer | str:
    mockoon = shutil.which("mockoon-cli")
    if mockoon is None:
        return f"Mockoon skipped (not installed): {INSTALL['Mockoon']}"
    port = free_port()
    command = [mockoon, "start", "--data", str(SPEC), "--port", str(port), "--hostname", "127.0.0.1", "-X"]
    return _started("Mockoon CLI (spec imported)", command, f"http://127.0.0.1:{port}/campaigns/{campaign_id}", folder)


def stop_peer(peer: Peer) -> None:
    """Stop a peer this bench started, by its PID (SIGTERM, then SIGKILL after 10 s)."""
    peer.process.send_signal(signal.SIGTERM)
    try:
        peer.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        peer.process.kill()
        peer.process.wait(timeout=5)

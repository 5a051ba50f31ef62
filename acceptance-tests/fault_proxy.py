"""A seeded, fault-injecting HTTP/1.1 proxy between the provider and the moto server.

The provider reaches AWS through `AWS_ENDPOINT_URL=http://127.0.0.1:<proxy port>`; the
proxy forwards every request to moto and, per request, may inject one fault instead:

| kind          | what the provider sees                                                        |
|---------------|-------------------------------------------------------------------------------|
| throttle      | EC2: HTTP 503 `RequestLimitExceeded` (XML); EKS: HTTP 429 `ThrottlingException` |
| internal      | EC2: HTTP 500 `InternalError` (XML); EKS: HTTP 500 `ServerException`          |
| reset_before  | the connection is reset before the request is forwarded (moto never sees it)  |
| reset_after   | the request reaches moto, then the connection is reset: the effect happened,  |
|               | the answer is lost (a non-idempotent client creates duplicates here)          |
| latency       | the request is held `latency` seconds (seeded, within a range), then forwarded |
| denied        | (targeted use only) EC2: HTTP 403 `UnauthorizedOperation`; EKS: HTTP 403       |
|               | `AccessDeniedException`                                                       |

Reproducible: the decision for the n-th call of an operation (`ec2:CreateRoute`,
`eks:DescribeCluster`, ...) comes from its own `random.Random(f"{seed}:{operation}")`
stream, drawn in the order that operation's calls arrive. The provider's concurrency can
change which of four concurrent CreateRoute calls gets a fault, but not how many calls of
each operation fail, nor how.

It also counts requests (per operation) and faults (per kind), can hold every request for
a fixed time (the cancellation test), can call a hook on the k-th request (the crash
test kills the provider there, see `kill_provider_of`), and can rewrite moto's answers
(`rewrite`): AWS's states and owners that moto never shows (an attachment `pending` for
a few seconds, `pendingAcceptance`, `failed`, a transit gateway of another account), for
the n-th calls of an operation or for a time window (see `set_field_after`).

Two modes model AWS itself rather than faults (`configure(buckets=..., lag=...)`):
- *bucket*: EC2's token buckets per category (`category_of`: mutating 50 + 5/s;
  resource-intensive, the security group authorize/revoke, 50 + 5/s apart; filtered or
  paginated reads 100 + 20/s; unfiltered reads 50 + 10/s; see `EC2_BUCKETS`). A request
  that finds its bucket empty gets HTTP 503 `RequestLimitExceeded` in EC2's XML and never
  reaches moto; `snapshot()["buckets"]` counts throttled and successful answers per category.
- *lag*: EC2 describes answer as the world was before recent writes: a describe made
  within `lag` seconds of a write that touched one of the objects it names (an ID in its
  parameters: `sg-`, `rtb-`, `vpc-`, `tgw-`, ...) gets the last answer to the same
  request from before that write (when there is one), as an eventually consistent read
  does. Writes are the mutating calls moto accepted; the objects they touch are the IDs in
  the request and in the answer.

Loopback only: it listens on 127.0.0.1 and forwards only to a 127.0.0.1 upstream. Every
wait is bounded, and `stop()` (or leaving the `with` block) ends all of it.
"""

from __future__ import annotations

import http.client
import os
import random
import re
import select
import signal
import socket
import struct
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

HOST = "127.0.0.1"

#: the kinds drawn at random, with equal weight
RANDOM_KINDS = ("throttle", "internal", "reset_before", "reset_after", "latency")
ALL_KINDS = RANDOM_KINDS + ("denied",)

EC2_THROTTLE = (b'<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>RequestLimitExceeded</Code>'
                b'<Message>Request limit exceeded.</Message></Error></Errors><RequestID>x</RequestID></Response>')
EC2_INTERNAL = (b'<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>InternalError</Code>'
                b'<Message>An internal error has occurred.</Message></Error></Errors><RequestID>x</RequestID></Response>')
EC2_DENIED = (b'<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>UnauthorizedOperation</Code>'
              b'<Message>You are not authorized to perform this operation.</Message></Error></Errors>'
              b'<RequestID>x</RequestID></Response>')
EKS_THROTTLE = b'{"__type":"ThrottlingException","message":"Rate exceeded"}'
EKS_INTERNAL = b'{"__type":"ServerException","message":"An internal error has occurred."}'
EKS_DENIED = b'{"__type":"AccessDeniedException","message":"User is not authorized to perform eks:DescribeCluster"}'

def set_field_after(body: bytes, anchor: str, anchor_value: str | None, field: str, new: str,
                    only_from: tuple[str, ...] = ()) -> bytes:
    """EC2 XML with the first `<field>` after each `<anchor>anchor_value</anchor>` (any value
    when None) set to `new`, within that item (before the next `<anchor>`); only where the
    current value is in `only_from`, when given.

    E.g. the `<state>` of attachment `tgw-attach-1`: `set_field_after(body,
    "transitGatewayAttachmentId", "tgw-attach-1", "state", "failed")`."""
    text = body.decode("utf-8")
    value = re.escape(anchor_value) if anchor_value is not None else r"[^<]*"
    opening = f"<{anchor}>"
    out, pos = [], 0
    for m in re.finditer(f"<{re.escape(anchor)}>{value}</{re.escape(anchor)}>", text):
        if m.start() < pos:
            continue
        end = text.find(opening, m.end())
        end = len(text) if end < 0 else end
        f = re.compile(f"<{re.escape(field)}>([^<]*)</{re.escape(field)}>").search(text, m.end(), end)
        if f is None or (only_from and f.group(1) not in only_from):
            continue
        out.append(text[pos:f.start(1)])
        out.append(new)
        pos = f.end(1)
    out.append(text[pos:])
    return "".join(out).encode("utf-8")


def ec2_error(code: str, message: str) -> bytes:
    """An EC2 error document, as AWS answers a failed query-API call."""
    return (f'<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>{code}</Code>'
            f'<Message>{message}</Message></Error></Errors><RequestID>x</RequestID></Response>').encode()


HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade", "content-length", "expect"}

MAX_BODY = 16 * 1024 * 1024


def operation_of(method: str, path: str, headers, body: bytes) -> str:
    """`ec2:<Action>` for a query (form POST) request, `eks:<Operation>` for an EKS REST call."""
    auth = headers.get("Authorization", "") or ""
    p = urllib.parse.urlsplit(path).path
    if p.startswith("/clusters") or "/eks/aws4_request" in auth:
        parts = [x for x in p.split("/") if x]
        if method == "GET" and len(parts) == 2 and parts[0] == "clusters":
            return "eks:DescribeCluster"
        if method == "GET" and parts == ["clusters"]:
            return "eks:ListClusters"
        if method == "POST" and len(parts) == 3 and parts[2] == "update-config":
            return "eks:UpdateClusterConfig"
        return f"eks:{method} {'/'.join(parts[:1] + ['*'] * (len(parts) - 1))}"
    action = ""
    if body:
        try:
            action = urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0]
        except ValueError:
            action = ""
    if not action:
        action = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query).get("Action", [""])[0]
    return f"ec2:{action or method}"


#: EC2's documented buckets per account and Region: (burst, refill per second)
EC2_BUCKETS = {
    "mutating": (50.0, 5.0),
    "resource-intensive": (50.0, 5.0),
    "non-mutating": (100.0, 20.0),
    "unfiltered": (50.0, 10.0),
}

RESOURCE_INTENSIVE = {"AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress",
                      "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress"}
#: reads that take neither filters nor pagination (counted with the filtered reads)
SINGLE_OBJECT_READS = {"DescribeVpcAttribute", "DescribeAccountAttributes"}

ID_PATTERN = re.compile(r"\b(?:sgr|sg|rtbassoc|rtb|vpc|tgw-attach|tgw|vgw|subnet|eni|igw|nat)-[0-9a-z]+\b")


def category_of(operation: str, body: bytes) -> str | None:
    """EC2's bucket category of a request (None for EKS): how EC2 counts it."""
    if not operation.startswith("ec2:"):
        return None
    name = operation.split(":", 1)[1]
    if name in RESOURCE_INTENSIVE:
        return "resource-intensive"
    if not name.startswith(("Describe", "Get", "Search", "List")):
        return "mutating"
    keys = set()
    try:
        keys = set(urllib.parse.parse_qs(body.decode("utf-8", "replace")).keys())
    except ValueError:
        pass
    narrowed = any(k.startswith("Filter.") for k in keys) or "MaxResults" in keys or "NextToken" in keys
    return "non-mutating" if narrowed or name in SINGLE_OBJECT_READS else "unfiltered"


def ids_in(data: bytes) -> set[str]:
    """The EC2 object IDs named in a request or an answer."""
    return set(ID_PATTERN.findall(urllib.parse.unquote_plus(data.decode("utf-8", "replace"))))


class Buckets:
    """EC2's token buckets (thread-safe), and the answers counted per category."""

    def __init__(self, sizes: dict[str, tuple[float, float]]):
        now = time.monotonic()
        self.sizes = dict(sizes)
        self.tokens = {c: burst for c, (burst, _) in self.sizes.items()}
        self.last = {c: now for c in self.sizes}
        self.ok: Counter = Counter()
        self.throttled: Counter = Counter()
        self.lock = threading.Lock()

    def take(self, category: str) -> bool:
        """Takes a token: False (throttled) when the bucket is empty."""
        with self.lock:
            if category not in self.sizes:
                return True
            burst, refill = self.sizes[category]
            now = time.monotonic()
            self.tokens[category] = min(burst, self.tokens[category] + (now - self.last[category]) * refill)
            self.last[category] = now
            if self.tokens[category] >= 1.0:
                self.tokens[category] -= 1.0
                self.ok[category] += 1
                return True
            self.throttled[category] += 1
            return False

    def as_dict(self) -> dict:
        with self.lock:
            return {c: {"ok": self.ok[c], "throttled": self.throttled[c]} for c in self.sizes}


class Lag:
    """Eventually consistent describes (see the module's doc)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.writes: dict[str, list[float]] = {}          # object ID -> times of writes
        self.answers: dict[bytes, list[tuple[float, int, list, bytes]]] = {}  # describe body -> answers
        self.stale = 0
        self.lock = threading.Lock()

    @staticmethod
    def key(body: bytes) -> bytes:
        return body

    def wrote(self, request: bytes, answer: bytes) -> None:
        now = time.monotonic()
        with self.lock:
            for i in ids_in(request) | ids_in(answer):
                self.writes.setdefault(i, []).append(now)

    def answer_for(self, body: bytes) -> tuple[int, list, bytes] | None:
        """The earlier answer a describe gets now, or None (a fresh read)."""
        now = time.monotonic()
        with self.lock:
            recent = [w for i in ids_in(body) for w in self.writes.get(i, ()) if w > now - self.seconds]
            if not recent:
                return None
            first = min(recent)
            older = [a for a in self.answers.get(self.key(body), ()) if a[0] < first]
            if not older:
                return None
            self.stale += 1
            _, status, headers, data = older[-1]
            return status, headers, data

    def record(self, body: bytes, status: int, headers: list, data: bytes) -> None:
        with self.lock:
            kept = self.answers.setdefault(self.key(body), [])
            kept.append((time.monotonic(), status, headers, data))
            del kept[:-8]


def service_of(operation: str) -> str:
    return operation.split(":", 1)[0]


def is_mutation(operation: str) -> bool:
    name = operation.split(":", 1)[1]
    return not name.startswith(("Describe", "List", "Get"))


@dataclass
class Stats:
    requests: int = 0
    by_operation: Counter = field(default_factory=Counter)
    faults: Counter = field(default_factory=Counter)
    faults_by_operation: Counter = field(default_factory=Counter)
    forwarded: int = 0
    client_gone: int = 0      # requests held (latency) whose client hung up: not forwarded
    upstream_errors: int = 0  # moto did not answer (the proxy answers 502)
    buckets: "Buckets | None" = None
    lag: "Lag | None" = None

    def as_dict(self) -> dict:
        return {
            "requests": self.requests,
            "forwarded": self.forwarded,
            "by_operation": dict(sorted(self.by_operation.items())),
            "faults": {k: self.faults.get(k, 0) for k in ALL_KINDS if self.faults.get(k, 0)},
            "faults_total": sum(self.faults.values()),
            "faults_by_operation": dict(sorted(self.faults_by_operation.items())),
            "client_gone": self.client_gone,
            "upstream_errors": self.upstream_errors,
            "buckets": self.buckets.as_dict() if self.buckets is not None else {},
            "stale_reads": self.lag.stale if self.lag is not None else 0,
        }


class FaultProxy:
    """Start with `start()` (or `with FaultProxy(...) as p:`); `url` is what the provider gets."""

    def __init__(self, upstream: str, *, seed: int = 0, rate: float = 0.0, kinds=RANDOM_KINDS,
                 latency: tuple[float, float] = (0.2, 1.0), upstream_timeout: float = 30.0):
        u = urllib.parse.urlsplit(upstream)
        if u.hostname not in ("127.0.0.1", "localhost") or not u.port:
            raise ValueError(f"the proxy forwards to loopback only, not {upstream!r}")
        self.upstream_host, self.upstream_port = HOST, u.port
        self.upstream_timeout = upstream_timeout
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.active = 0  # requests being held or forwarded
        self.configure(seed=seed, rate=rate, kinds=kinds, latency=latency)

    # ------------------------------------------------------------ control

    def configure(self, *, seed: int = 0, rate: float = 0.0, kinds=RANDOM_KINDS,
                  latency: tuple[float, float] = (0.2, 1.0), hold_every_request: float = 0.0,
                  only: Callable[[str], bool] | None = None,
                  hold_if: Callable[[str, int], bool] | None = None,
                  answer: dict[str, tuple[int, str, str]] | None = None,
                  rewrite: Callable[[str, int, bytes], bytes] | None = None,
                  buckets: dict[str, tuple[float, float]] | None = None,
                  lag: float = 0.0) -> "FaultProxy":
        """Sets the whole fault plan (what is not given takes its default) and starts
        counting afresh: statistics, per-operation streams and the hook are reset.

        `rate`: probability of a fault per request, the kind drawn from `kinds` with equal
        weight; `latency`: the range of the added delay of a "latency" fault;
        `only` restricts faults to operations it accepts (e.g. `is_mutation`);
        `hold_every_request` holds every request that long before forwarding it (with
        `hold_if`: only the requests for which `hold_if(operation, nth call of it)` is true);
        `answer` maps an EC2 operation to the (HTTP status, error code, message) AWS would
        give and moto does not (e.g. `VpnGatewayAttachmentLimitExceeded`): such requests
        get that answer and never reach moto;
        `rewrite(operation, nth call of it, body)` returns the body of moto's successful
        answer the provider gets instead (states and owners moto never reports); see
        `set_rewrite` to change it mid-run;
        `buckets` (e.g. `EC2_BUCKETS`, or scaled down): EC2's token buckets per category;
        `lag`: describes answer as before the writes of the last `lag` seconds.
        """
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rate {rate} is not within [0, 1]")
        bad = set(kinds) - set(ALL_KINDS)
        if bad or not kinds:
            raise ValueError(f"unknown fault kinds {bad}")
        with self._lock:
            self.seed = seed
            self.rate = rate
            self.kinds = tuple(kinds)
            self.latency = latency
            self.hold = hold_every_request or 0.0
            self.hold_if = hold_if
            self.only = only
            self.answer = dict(answer or {})
            self.rewrite = rewrite
            self.injecting = self.rate > 0
            self.stats = Stats()
            self.stats.buckets = Buckets(buckets) if buckets else None
            self.stats.lag = Lag(lag) if lag > 0 else None
            self._streams: dict[str, random.Random] = {}
            self._hook: tuple | None = None
            self.hook_fired: list[tuple[int, str]] = []
            self.log: list[tuple[float, str, str]] = []   # (time, operation, outcome)
        return self

    def set_rewrite(self, rewrite: Callable[[str, int, bytes], bytes] | None) -> None:
        """Replaces the answer rewriting (None: answers pass unchanged), counts kept."""
        with self._lock:
            self.rewrite = rewrite

    def stop_injecting(self) -> None:
        """From now on, every request is forwarded unchanged (counting goes on)."""
        with self._lock:
            self.injecting = False
            self.hold = 0.0

    def resume_injecting(self) -> None:
        with self._lock:
            self.injecting = self.rate > 0

    def on_request(self, k: int | None, hook: Callable[[int, str], None], when: str = "after", *,
                   operation: str | None = None, nth: int = 1) -> None:
        """Calls `hook(n, operation)` once: on the k-th request counted from the last
        `configure`, or (with `operation`) on the nth call of that operation.

        `when="after"`: the request is forwarded first and its answer is lost (the
        connection is reset after the hook); `"before"`: the hook runs and the request is
        dropped without reaching moto.
        """
        if (k is None) == (operation is None) or (k is not None and k < 1) or nth < 1 \
                or when not in ("before", "after"):
            raise ValueError((k, operation, nth, when))
        with self._lock:
            self._hook = (k, hook, when, operation, nth)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Waits (bounded) until no request is being held or forwarded; False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self.active == 0:
                    return True
            time.sleep(0.05)
        return False

    def snapshot(self) -> dict:
        with self._lock:
            return self.stats.as_dict()

    # ------------------------------------------------------------ server

    @property
    def port(self) -> int:
        assert self._server is not None, "not started"
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> "FaultProxy":
        proxy = self

        class Handler(_Handler):
            pass

        Handler.proxy = proxy
        server = _Server((HOST, 0), Handler)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="fault-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> "FaultProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------ per request

    def _decide(self, operation: str) -> tuple[int, str | None, float, tuple | None]:
        """(request number, fault kind or None, seconds to hold, hook) for one request.
        The nth call of the operation is `stats.by_operation[operation]` right after."""
        with self._lock:
            self.stats.requests += 1
            n = self.stats.requests
            self.stats.by_operation[operation] += 1
            held = self.hold_if is None or self.hold_if(operation, self.stats.by_operation[operation])
            kind, hold = None, (self.hold if held else 0.0)
            if self.injecting and (self.only is None or self.only(operation)):
                rng = self._streams.get(operation)
                if rng is None:
                    rng = self._streams[operation] = random.Random(f"{self.seed}:{operation}")
                draw, pick, amount = rng.random(), rng.randrange(len(self.kinds)), rng.random()
                if draw < self.rate:
                    kind = self.kinds[pick]
                    self.stats.faults[kind] += 1
                    self.stats.faults_by_operation[f"{operation} {kind}"] += 1
                    if kind == "latency":
                        lo, hi = self.latency
                        hold += lo + (hi - lo) * amount
            hook = None
            if self._hook is not None:
                k, fn, when, op, nth = self._hook
                if (k is not None and k == n) or (op == operation and self.stats.by_operation[op] == nth):
                    hook = (fn, when)
                    self._hook = None
            return n, kind, hold, hook

    def _note(self, operation: str, outcome: str) -> None:
        with self._lock:
            if len(self.log) < 100_000:
                self.log.append((time.monotonic(), operation, outcome))
            if outcome == "forwarded":
                self.stats.forwarded += 1
            elif outcome == "client gone":
                self.stats.client_gone += 1
            elif outcome == "upstream error":
                self.stats.upstream_errors += 1

    def _forward(self, method: str, path: str, headers, body: bytes) -> tuple[int, str, list, bytes]:
        conn = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=self.upstream_timeout)
        try:
            out = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}
            out["Content-Length"] = str(len(body))
            out["Connection"] = "close"
            conn.request(method, path, body=body if body or method in ("POST", "PUT", "PATCH") else None, headers=out)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, resp.reason, [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP], data
        finally:
            conn.close()


def _fault_response(kind: str, service: str) -> tuple[int, list, bytes]:
    if service == "eks":
        status, etype, body = {
            "throttle": (429, "ThrottlingException", EKS_THROTTLE),
            "internal": (500, "ServerException", EKS_INTERNAL),
            "denied": (403, "AccessDeniedException", EKS_DENIED),
        }[kind]
        return status, [("Content-Type", "application/json"), ("x-amzn-ErrorType", etype),
                        ("x-amzn-RequestId", "x")], body
    status, body = {"throttle": (503, EC2_THROTTLE), "internal": (500, EC2_INTERNAL), "denied": (403, EC2_DENIED)}[kind]
    return status, [("Content-Type", "text/xml;charset=UTF-8")], body


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, *a, **kw):
        self._resets: set = set()
        self._resets_lock = threading.Lock()
        super().__init__(*a, **kw)

    def mark_reset(self, sock) -> None:
        with self._resets_lock:
            self._resets.add(sock)

    def shutdown_request(self, request):
        with self._resets_lock:
            reset = request in self._resets
            self._resets.discard(request)
        if reset:
            # No shutdown(SHUT_WR), which would send a FIN first: close with SO_LINGER 0 = RST.
            self.close_request(request)
        else:
            super().shutdown_request(request)


class _Handler(BaseHTTPRequestHandler):
    proxy: FaultProxy
    protocol_version = "HTTP/1.1"
    timeout = 60  # an idle keep-alive connection is closed after this

    def log_message(self, format, *args):  # noqa: A002 - quiet
        pass

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding", "") or "").lower():
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(1024)
                if not line:
                    raise ConnectionError("truncated chunked body")
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_BODY:
                    raise ConnectionError("body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(16)
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            raise ConnectionError("body too large")
        return self.rfile.read(n) if n > 0 else b""

    def _reset(self) -> None:
        """Resets the connection (RST, not FIN): what a dropped connection looks like.
        The server closes it without the usual shutdown(SHUT_WR) (see `_Server`)."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.server.mark_reset(self.connection)

    def _client_gone(self) -> bool:
        """The client closed (or reset) its connection while we held its request."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            return self.connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True

    def _hold(self, seconds: float) -> bool:
        """Waits `seconds` (bounded; ends early when the proxy stops). False if the client left."""
        deadline = time.monotonic() + min(seconds, 120.0)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return True
            if self.proxy._stopping.wait(min(0.05, left)):
                return False
            if self._client_gone():
                return False

    def _send(self, status: int, headers: list, body: bytes, reason: str | None = None) -> None:
        self.send_response(status, reason)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def _handle(self) -> None:
        p = self.proxy
        try:
            body = self._read_body()
        except (ConnectionError, ValueError, OSError):
            self._reset()
            return
        operation = operation_of(self.command, self.path, self.headers, body)
        with p._lock:
            p.active += 1
        try:
            self._serve(p, operation, body)
        finally:
            with p._lock:
                p.active -= 1

    def _serve(self, p: "FaultProxy", operation: str, body: bytes) -> None:
        n, kind, hold, hook = p._decide(operation)
        with p._lock:
            nth = p.stats.by_operation[operation]

        if hold > 0 and not self._hold(hold):
            p._note(operation, "client gone")
            self._reset()
            return
        if hook is not None and hook[1] == "before":
            fn, _ = hook
            try:
                fn(n, operation)
            finally:
                p.hook_fired.append((n, operation))
                p._note(operation, "hook before")
                self._reset()
            return
        with p._lock:
            buckets, lag = p.stats.buckets, p.stats.lag
        category = category_of(operation, body) if buckets is not None else None
        if category is not None and not buckets.take(category):
            p._note(operation, "bucket empty")
            self._send(503, [("Content-Type", "text/xml;charset=UTF-8")], EC2_THROTTLE)
            return
        reading = operation.startswith("ec2:") and not is_mutation(operation)
        if lag is not None and reading:
            stale = lag.answer_for(body)
            if stale is not None:
                p._note(operation, "stale read")
                self._send(*stale)
                return
        canned = p.answer.get(operation)
        if canned is not None:
            status, code, message = canned
            p._note(operation, f"answered {code}")
            self._send(status, [("Content-Type", "text/xml;charset=UTF-8")], ec2_error(code, message))
            return
        if kind in ("throttle", "internal", "denied"):
            status, headers, data = _fault_response(kind, service_of(operation))
            p._note(operation, kind)
            self._send(status, headers, data)
            return
        if kind == "reset_before":
            p._note(operation, kind)
            self._reset()
            return
        try:
            status, reason, headers, data = p._forward(self.command, self.path, self.headers, body)
        except (OSError, http.client.HTTPException) as e:
            p._note(operation, "upstream error")
            msg = f"fault proxy: upstream {p.upstream_host}:{p.upstream_port} failed: {e}".encode()
            self._send(502, [("Content-Type", "text/plain")], msg)
            return
        p._note(operation, "forwarded")
        if lag is not None and 200 <= status < 300:
            if reading:
                lag.record(body, status, headers, data)
            elif operation.startswith("ec2:"):
                lag.wrote(body, data)
        if hook is not None:
            fn, _ = hook
            try:
                fn(n, operation)
            finally:
                p.hook_fired.append((n, operation))
                self._reset()
            return
        if kind == "reset_after":
            p._note(operation, kind)
            self._reset()
            return
        with p._lock:
            rewrite = p.rewrite
        if rewrite is not None and 200 <= status < 300:
            new = rewrite(operation, nth, data)
            if new != data:
                p._note(operation, "rewritten")
                data = new
        self._send(status, headers, data, reason)

    def do_GET(self):
        self._handle()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET

    def finish(self):
        try:
            super().finish()
        except (OSError, ValueError):
            pass


# ---------------------------------------------------------------- processes

def _ppid_map() -> dict[int, int]:
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read().decode("utf-8", "replace")
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses
        rest = stat[stat.rfind(")") + 2:].split()
        if len(rest) >= 2:
            out[int(name)] = int(rest[1])
    return out


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (children, grandchildren, ...)."""
    parents = _ppid_map()
    found, frontier = [], [pid]
    for _ in range(16):  # bounded depth
        nxt = [c for c, p in parents.items() if p in frontier and c not in found]
        if not nxt:
            break
        found.extend(nxt)
        frontier = nxt
    return found


def _is_provider(pid: int, binary_name: str) -> bool:
    try:
        exe = os.readlink(f"/proc/{pid}/exe")
    except OSError:
        exe = ""
    if os.path.basename(exe.replace(" (deleted)", "")) == binary_name:
        return True
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv0 = f.read().split(b"\0", 1)[0].decode("utf-8", "replace")
    except OSError:
        return False
    return os.path.basename(argv0) == binary_name


def kill_provider_of(terraform_pid: int, binary_name: str = "terraform-provider-hybridnet") -> list[int]:
    """SIGKILLs the provider processes started by the Terraform process `terraform_pid`
    (and only those); returns their pids."""
    killed = []
    for pid in descendants(terraform_pid):
        if _is_provider(pid, binary_name):
            try:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            except ProcessLookupError:
                pass
    return killed

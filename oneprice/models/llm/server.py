"""OpenAI-compatible HTTP server: POST /v1/chat/completions and /v1/completions (SSE streaming or not),
GET /v1/models, GET /health.

Limits (``Limits``) answer with a clear 4xx/5xx instead of growing without bound: a body over
``max_body_bytes`` is refused before it is read (413), a missing, negative or malformed
Content-Length too (411/400), ``max_tokens`` over ``max_tokens`` (400), more than ``max_connections``
connections at once (503, answered without a thread), a full waiting room (503), and a client that
stalls for ``io_timeout_s`` is dropped. A client that disconnects has its request cancelled at the
next decoding step. ``response_format`` (``json_object``, ``json_schema``) and ``regex`` constrain
decoding through the grammar mask, so the reply parses by construction.
"""

from __future__ import annotations

import contextlib
import json
import logging
import select
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from oneprice.core.errors import ConfigError
from oneprice.models.llm.batch import Busy, Scheduler
from oneprice.models.llm.engine import Chunk, Engine
from oneprice.models.llm.grammar import grammar_for
from oneprice.models.llm.sampling import SamplingParams

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 1 << 20
    max_tokens: int = 4096
    max_connections: int = 64
    max_batch: int = 8
    max_waiting: int = 64
    io_timeout_s: float = 30.0


class BadRequest(ValueError):
    def __init__(self, message: str, code: int = 400) -> None:
        super().__init__(message)
        self.code = code


def response_format(body: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """(json_schema, regex) from OpenAI's ``response_format`` (and vLLM's ``guided_regex``)."""
    regex = body.get("guided_regex") or body.get("regex")
    if regex is not None and not isinstance(regex, str):
        raise BadRequest("regex must be a string")
    rf = body.get("response_format")
    if rf is None:
        return None, regex
    if not isinstance(rf, dict) or rf.get("type") not in ("text", "json_object", "json_schema"):
        raise BadRequest("response_format.type must be text, json_object or json_schema")
    if rf["type"] == "text":
        return None, regex
    if rf["type"] == "json_object":
        return {}, regex
    spec = rf.get("json_schema")
    if not isinstance(spec, dict) or not isinstance(spec.get("schema", {}), dict):
        raise BadRequest("response_format.json_schema must be an object with a 'schema' object")
    return spec.get("schema") or {}, regex


def params_from_body(
    body: dict[str, Any], limits: Limits = Limits(), default_max: int = 256
) -> SamplingParams:
    """SamplingParams from an OpenAI request body; BadRequest on anything out of range."""
    stop = body.get("stop") or ()
    if isinstance(stop, str):
        stop = (stop,)
    if not isinstance(stop, list | tuple) or not all(isinstance(s, str) for s in stop):
        raise BadRequest("stop must be a string or a list of strings")
    if int(body.get("n", 1) or 1) != 1:
        raise BadRequest("only n = 1 is supported")
    raw = body.get("max_completion_tokens") or body.get("max_tokens") or default_max
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
        raise BadRequest("max_tokens must be a positive integer")
    if raw > limits.max_tokens:
        raise BadRequest(f"max_tokens {raw} is over this server's limit of {limits.max_tokens}")
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise BadRequest("seed must be an integer")
    temperature = float(body.get("temperature", 0.0) or 0.0)
    top_p = float(body.get("top_p", 1.0) or 1.0)
    if not 0.0 <= temperature <= 2.0 or not 0.0 < top_p <= 1.0:
        raise BadRequest("temperature must be in [0, 2] and top_p in (0, 1]")
    schema, regex = response_format(body)
    if schema is not None or regex is not None:
        try:
            grammar_for(schema, regex)  # compiled once and cached: a bad schema is a 400 now
        except ConfigError as exc:
            raise BadRequest(str(exc)) from exc
    return SamplingParams(
        max_new_tokens=raw,
        temperature=temperature,
        top_p=top_p,
        stop=tuple(stop),
        seed=seed,
        method=str(body.get("speculation", "auto")),
        json_schema=schema,
        regex=regex,
    )


class _BoundedServer(ThreadingHTTPServer):
    """A thread per connection, at most ``limit`` at once; the rest get a 503 from the accept loop."""

    daemon_threads = True
    request_queue_size = 128  # listen backlog: bursts queue in the kernel, then get a thread or a 503

    def __init__(self, addr: tuple[str, int], handler: Any, limit: int) -> None:
        super().__init__(addr, handler)
        self.slots = threading.BoundedSemaphore(limit)
        self.open_connections = 0

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.slots.acquire(blocking=False):
            body = b'{"error": {"message": "server busy: too many connections", "code": 503}}'
            head = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
            head += f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            with contextlib.suppress(OSError):
                request.sendall(head.encode() + body)
                request.settimeout(0.05)  # read what the client already sent, so closing is no reset
                for _ in range(16):
                    if not request.recv(65536):
                        break
            self.shutdown_request(request)
            return
        self.open_connections += 1
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.open_connections -= 1
            self.slots.release()


class LLMServer:
    def __init__(
        self,
        engine: Engine,
        model_name: str,
        host: str = "127.0.0.1",
        port: int = 8000,
        limits: Limits | None = None,
    ) -> None:
        self.engine = engine
        self.model_name = model_name
        self.limits = limits or Limits()
        self.requests = 0  # generation requests accepted
        self.scheduler = Scheduler(engine, self.limits.max_batch, self.limits.max_waiting)
        self.httpd = _BoundedServer((host, port), _handler(self), self.limits.max_connections)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def serve_forever(self) -> None:
        log.info("serving %s at %s", self.model_name, self.url)
        self.httpd.serve_forever()

    def start(self) -> threading.Thread:
        t = threading.Thread(target=self.httpd.serve_forever, name="llm-http", daemon=True)
        t.start()
        return t

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.scheduler.stop()


def _handler(server: LLMServer) -> type[BaseHTTPRequestHandler]:
    limits = server.limits

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = limits.io_timeout_s  # a stalled upload or reader is dropped after this

        def log_message(self, fmt: str, *args: Any) -> None:
            log.debug("http: " + fmt, *args)

        def _json(self, code: int, obj: Any) -> None:
            data = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if code >= 400:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(data)

        def _error(self, code: int, message: str) -> None:
            kind = "invalid_request_error" if code < 500 else "server_error"
            self._json(code, {"error": {"message": message, "type": kind, "code": code}})

        def do_GET(self) -> None:
            if self.path.rstrip("/") == "/v1/models":
                model = {"id": server.model_name, "object": "model", "created": 0, "owned_by": "oneprice"}
                self._json(200, {"object": "list", "data": [model]})
            elif self.path == "/health":
                self._json(200, {"status": "ok", "active_requests": server.scheduler.active})
            else:
                self._error(404, f"no route {self.path}")

        def _body(self) -> dict[str, Any]:
            if self.headers.get("Transfer-Encoding"):
                raise BadRequest("chunked request bodies are not accepted; send Content-Length", 411)
            raw = self.headers.get("Content-Length")
            if raw is None:
                raise BadRequest("Content-Length required", 411)
            try:
                n = int(raw)
            except ValueError:
                raise BadRequest(f"bad Content-Length {raw!r}") from None
            if n < 0:
                raise BadRequest(f"bad Content-Length {raw!r}")
            if n > limits.max_body_bytes:
                raise BadRequest(
                    f"request body of {n} bytes is over the limit of {limits.max_body_bytes}", 413
                )
            try:
                data = self.rfile.read(n)
            except TimeoutError:
                raise BadRequest("request body timed out", 408) from None
            if len(data) < n:
                raise BadRequest("request body shorter than its Content-Length")
            try:
                body = json.loads(data or b"{}")
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise BadRequest(f"body is not JSON: {exc}") from None
            if not isinstance(body, dict):
                raise BadRequest("body must be a JSON object")
            return body

        def do_POST(self) -> None:
            route = self.path.rstrip("/")
            if route not in ("/v1/chat/completions", "/v1/completions"):
                self._error(404, f"no route {self.path}")
                return
            chat = route == "/v1/chat/completions"
            try:
                body = self._body()
                prompt = self._prompt(body, chat)
                params = params_from_body(body, limits, 256 if chat else 16)
                ctx = server.engine.max_context
                if ctx and len(prompt) >= ctx:
                    raise BadRequest(f"prompt of {len(prompt)} tokens; the model's context is {ctx}")
                job = server.scheduler.submit(prompt, params)
                server.requests += 1
            except BadRequest as exc:
                self._error(exc.code, str(exc))
                return
            except Busy as exc:
                self._error(503, str(exc))
                return
            except (KeyError, ValueError, TypeError) as exc:
                self._error(400, f"bad request: {exc}")
                return
            rid = f"{'chatcmpl' if chat else 'cmpl'}-{uuid.uuid4().hex[:24]}"
            chunks = job.chunks(alive=self._alive)
            if body.get("stream"):
                self._stream(rid, chunks, chat)
                return
            text, n, reason = "", 0, "length"
            try:
                for c in chunks:
                    text += c.text
                    n += len(c.token_ids)
                    reason = c.finish_reason or reason
            except Exception as exc:
                self._error(
                    400 if isinstance(exc, ConfigError | ValueError) else 500, f"generation failed: {exc}"
                )
                return
            if job.cancelled and reason not in ("stop", "length"):
                return  # the client is gone
            usage = {"prompt_tokens": len(prompt), "completion_tokens": n, "total_tokens": len(prompt) + n}
            if chat:
                msg = {"role": "assistant", "content": text}
                choice: dict[str, Any] = {"index": 0, "message": msg, "finish_reason": reason}
                self._json(200, {**self._head(rid, "chat.completion"), "choices": [choice], "usage": usage})
            else:
                choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": reason}
                self._json(200, {**self._head(rid, "text_completion"), "choices": [choice], "usage": usage})

        def _prompt(self, body: dict[str, Any], chat: bool) -> list[int]:
            if chat:
                messages = body.get("messages")
                if not isinstance(messages, list) or not messages:
                    raise BadRequest("messages must be a non-empty list")
                for m in messages:
                    if not isinstance(m, dict) or not isinstance(m.get("content"), str):
                        raise BadRequest("each message needs a string 'content'")
                return server.engine.encode_chat(messages)
            prompt = body.get("prompt")
            if isinstance(prompt, list) and len(prompt) == 1:
                prompt = prompt[0]
            if isinstance(prompt, str) and prompt:
                return server.engine.encode(prompt)
            if isinstance(prompt, list) and prompt and all(isinstance(t, int) for t in prompt):
                if max(prompt) >= server.engine.vocab_size or min(prompt) < 0:
                    raise BadRequest("prompt token id out of the vocabulary")
                return list(prompt)
            raise BadRequest("prompt must be a non-empty string, a list of one string, or token ids")

        def _alive(self) -> bool:
            """False once the client has closed its end (readable with nothing to read)."""
            try:
                ready, _, _ = select.select([self.connection], [], [], 0)
                if not ready:
                    return True
                return bool(self.connection.recv(1, socket.MSG_PEEK))
            except OSError:
                return False

        def _head(self, rid: str, obj: str) -> dict[str, Any]:
            return {"id": rid, "object": obj, "created": int(time.time()), "model": server.model_name}

        def _stream(self, rid: str, chunks: Iterator[Chunk], chat: bool) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            head = self._head(rid, "chat.completion.chunk" if chat else "text_completion")

            def send(text: str | None, reason: str | None, first: bool = False) -> None:
                if chat:
                    delta: dict[str, Any] = {"role": "assistant", "content": ""} if first else {}
                    if text:
                        delta["content"] = text
                    choice: dict[str, Any] = {"index": 0, "delta": delta, "finish_reason": reason}
                else:
                    choice = {"index": 0, "text": text or "", "logprobs": None, "finish_reason": reason}
                self.wfile.write(f"data: {json.dumps({**head, 'choices': [choice]})}\n\n".encode())
                self.wfile.flush()

            try:
                if chat:
                    send(None, None, first=True)
                for c in chunks:
                    if c.text:
                        send(c.text, None)
                    if c.finish_reason:
                        send(None, c.finish_reason)
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                log.info("client went away during %s", rid)
            except Exception as exc:  # generation failed after the headers went out
                log.warning("stream %s failed: %s", rid, exc)
                try:
                    err = {"error": {"message": f"generation failed: {exc}", "code": 500}}
                    self.wfile.write(f"data: {json.dumps(err)}\n\n".encode())
                    self.wfile.flush()
                except OSError:
                    pass
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()  # cancels the job if it is still running

    return Handler

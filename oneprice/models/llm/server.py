"""OpenAI-compatible HTTP server: POST /v1/chat/completions (with SSE streaming), GET /v1/models."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from oneprice.models.llm.batch import Scheduler
from oneprice.models.llm.engine import Engine
from oneprice.models.llm.sampling import SamplingParams

log = logging.getLogger(__name__)


def params_from_body(body: dict[str, Any]) -> SamplingParams:
    stop = body.get("stop") or ()
    if isinstance(stop, str):
        stop = (stop,)
    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens") or 256
    return SamplingParams(
        max_new_tokens=int(max_tokens),
        temperature=float(body.get("temperature", 0.0) or 0.0),
        top_p=float(body.get("top_p", 1.0) or 1.0),
        stop=tuple(stop),
        seed=body.get("seed"),
        method=str(body.get("speculation", "auto")),
    )


class LLMServer:
    def __init__(self, engine: Engine, model_name: str, host: str = "127.0.0.1", port: int = 8000) -> None:
        self.engine = engine
        self.model_name = model_name
        self.scheduler = Scheduler(engine)
        self.httpd = ThreadingHTTPServer((host, port), _handler(self))
        self.httpd.daemon_threads = True

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


def _handler(server: LLMServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt: str, *args: Any) -> None:
            log.debug("http: " + fmt, *args)

        def _json(self, code: int, obj: Any) -> None:
            data = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, code: int, message: str) -> None:
            self._json(code, {"error": {"message": message, "type": "invalid_request_error", "code": code}})

        def do_GET(self) -> None:
            if self.path.rstrip("/") == "/v1/models":
                model = {"id": server.model_name, "object": "model", "created": 0, "owned_by": "oneprice"}
                self._json(200, {"object": "list", "data": [model]})
            elif self.path == "/health":
                self._json(200, {"status": "ok"})
            else:
                self._error(404, f"no route {self.path}")

        def do_POST(self) -> None:
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._error(404, f"no route {self.path}")
                return
            try:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                messages = body["messages"]
                if not isinstance(messages, list) or not messages:
                    raise ValueError("messages must be a non-empty list")
                params = params_from_body(body)
                prompt = server.engine.encode_chat(messages)
            except (KeyError, ValueError, TypeError) as exc:
                self._error(400, f"bad request: {exc}")
                return
            rid = f"chatcmpl-{uuid.uuid4().hex[:24]}"
            chunks = server.scheduler.submit(prompt, params)
            if body.get("stream"):
                self._stream(rid, chunks)
                return
            text, n, reason = "", 0, "length"
            try:
                for c in chunks:
                    text += c.text
                    n += len(c.token_ids)
                    reason = c.finish_reason or reason
            except Exception as exc:
                self._error(500, f"generation failed: {exc}")
                return
            choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": reason}
            usage = {"prompt_tokens": len(prompt), "completion_tokens": n, "total_tokens": len(prompt) + n}
            self._json(200, {**self._head(rid, "chat.completion"), "choices": [choice], "usage": usage})

        def _head(self, rid: str, obj: str) -> dict[str, Any]:
            return {"id": rid, "object": obj, "created": int(time.time()), "model": server.model_name}

        def _stream(self, rid: str, chunks: Any) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            head = self._head(rid, "chat.completion.chunk")

            def send(delta: dict[str, Any], reason: str | None) -> None:
                payload = {**head, "choices": [{"index": 0, "delta": delta, "finish_reason": reason}]}
                self.wfile.write(f"data: {json.dumps(payload)}\n\n".encode())
                self.wfile.flush()

            try:
                send({"role": "assistant", "content": ""}, None)
                for c in chunks:
                    if c.text:
                        send({"content": c.text}, None)
                    if c.finish_reason:
                        send({}, c.finish_reason)
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                log.info("client went away during %s", rid)

    return Handler

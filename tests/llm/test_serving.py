"""The OpenAI-compatible server on loopback: the official openai client, limits, continuous batching."""

from __future__ import annotations

import json
import random
import socket
import threading
import time

import jsonschema
import pytest

from oneprice.core.errors import PermanentError
from oneprice.models.llm.backends import LocalBackend, OpenAIBackend
from oneprice.models.llm.batch import Scheduler, stream_batch
from oneprice.models.llm.sampling import SamplingParams
from oneprice.models.llm.server import Limits, LLMServer

MSG = [{"role": "user", "content": "List three crypto exchanges, comma separated."}]
SCHEMA = {
    "type": "object",
    "properties": {
        "exchanges": {"type": "array", "items": {"enum": ["Binance", "Kraken", "Coinbase"]}, "maxItems": 3}
    },
    "required": ["exchanges"],
    "additionalProperties": False,
}


@pytest.fixture(scope="module")
def server(smollm2):  # type: ignore[no-untyped-def]
    limits = Limits(max_body_bytes=64 << 10, max_tokens=512, max_connections=24, io_timeout_s=2.0)
    srv = LLMServer(smollm2, "smollm2-135m", "127.0.0.1", 0, limits)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def client(server):  # type: ignore[no-untyped-def]
    import openai

    return openai.OpenAI(base_url=server.url, api_key="none", max_retries=0, timeout=300)


def _raw(server, data: bytes, wait: float = 10.0) -> bytes:  # type: ignore[no-untyped-def]
    host, port = server.httpd.server_address[:2]
    with socket.create_connection((host, port), timeout=wait) as s:
        s.sendall(data)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
        return out


def _post(path: str, headers: str, body: bytes = b"") -> bytes:
    return f"POST {path} HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode() + body


def test_official_client_chat_and_stream(client, smollm2) -> None:  # type: ignore[no-untyped-def]
    r = client.chat.completions.create(model="smollm2-135m", messages=MSG, max_tokens=16, temperature=0)
    local = LocalBackend(smollm2).chat(MSG, SamplingParams(max_new_tokens=16, method="plain"))
    assert r.choices[0].message.content == local.text and local.text
    assert r.usage.completion_tokens == local.completion_tokens
    pieces = [
        c.choices[0].delta.content or ""
        for c in client.chat.completions.create(
            model="smollm2-135m", messages=MSG, max_tokens=16, temperature=0, stream=True
        )
    ]
    assert len([p for p in pieces if p]) > 1 and "".join(pieces) == local.text


def test_official_client_response_format(client) -> None:  # type: ignore[no-untyped-def]
    r = client.chat.completions.create(
        model="smollm2-135m", messages=MSG, max_tokens=64, response_format={"type": "json_object"}
    )
    assert isinstance(json.loads(r.choices[0].message.content), dict)
    fmt = {"type": "json_schema", "json_schema": {"name": "exchanges", "schema": SCHEMA}}
    r = client.chat.completions.create(model="smollm2-135m", messages=MSG, max_tokens=64, response_format=fmt)
    assert r.choices[0].finish_reason == "stop"
    jsonschema.validate(json.loads(r.choices[0].message.content), SCHEMA)


def test_official_client_legacy_completions(client, smollm2) -> None:  # type: ignore[no-untyped-def]
    r = client.completions.create(model="smollm2-135m", prompt="Bitcoin is", max_tokens=8, temperature=0)
    local = smollm2.generate("Bitcoin is", SamplingParams(max_new_tokens=8, method="plain"))
    assert r.choices[0].text == local.text and r.object == "text_completion"
    streamed = client.completions.create(
        model="smollm2-135m", prompt="Bitcoin is", max_tokens=8, temperature=0, stream=True
    )
    assert "".join(c.choices[0].text for c in streamed) == local.text


def test_our_openai_backend_against_our_server(server) -> None:  # type: ignore[no-untyped-def]
    b = OpenAIBackend(server.url, "smollm2-135m")
    assert b.models() == ["smollm2-135m"]
    out = b.chat(MSG, SamplingParams(max_new_tokens=64, json_schema=SCHEMA))
    jsonschema.validate(json.loads(out.text), SCHEMA)
    r = b.client.post("/chat/completions", json={"messages": []})
    assert r.status_code == 400 and "messages" in r.json()["error"]["message"]
    with pytest.raises(PermanentError):
        b._check(r)


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        ({"messages": MSG, "max_tokens": 10**9}, 400, "limit"),
        ({"messages": MSG, "max_tokens": -3}, 400, "max_tokens"),
        ({"messages": MSG, "response_format": {"type": "xml"}}, 400, "response_format"),
        (
            {"messages": MSG, "response_format": {"type": "json_schema", "json_schema": {"schema": 3}}},
            400,
            "schema",
        ),
        ({"messages": MSG, "n": 2}, 400, "n = 1"),
        ({"prompt": ""}, 400, "prompt"),
    ],
)
def test_bad_requests_get_a_clear_4xx(server, body, code, words) -> None:  # type: ignore[no-untyped-def]
    path = "/v1/completions" if "prompt" in body else "/v1/chat/completions"
    r = OpenAIBackend(server.url, "m").client.post(path.removeprefix("/v1"), json=body)
    assert r.status_code == code and words in r.json()["error"]["message"]


def test_body_and_header_limits(server) -> None:  # type: ignore[no-untyped-def]
    big = _raw(server, _post("/v1/chat/completions", "Content-Length: 50000000\r\n"))
    assert big.startswith(b"HTTP/1.1 413")
    neg = _raw(server, _post("/v1/chat/completions", "Content-Length: -1\r\n"))
    assert neg.startswith(b"HTTP/1.1 400") and b"Content-Length" in neg
    missing = _raw(server, _post("/v1/chat/completions", ""))
    assert missing.startswith(b"HTTP/1.1 411")
    junk = _raw(server, _post("/v1/chat/completions", "Content-Length: 5\r\n", b"{nope"))
    assert junk.startswith(b"HTTP/1.1 400") and b"JSON" in junk


def test_stalled_upload_is_dropped_and_connections_are_capped(server) -> None:  # type: ignore[no-untyped-def]
    host, port = server.httpd.server_address[:2]
    stalled = []
    for _ in range(30):  # more than max_connections, each sending half a body and stalling
        s = socket.create_connection((host, port), timeout=10)
        s.sendall(_post("/v1/chat/completions", "Content-Length: 100\r\n", b'{"messages"'))
        stalled.append(s)
    answers = []
    for s in stalled:
        try:
            answers.append(s.recv(200))
        except OSError:
            answers.append(b"")
        s.close()
    heads = [a[:12] for a in answers]
    assert sum(a.startswith(b"HTTP/1.1 503") for a in answers) >= 30 - 24, heads  # refused, no thread
    assert sum(a.startswith(b"HTTP/1.1 408") for a in answers) >= 1  # the rest timed out (io_timeout_s)
    deadline = time.time() + 10
    while server.httpd.open_connections and time.time() < deadline:
        time.sleep(0.05)
    assert server.httpd.open_connections == 0


def test_sixteen_streaming_clients_with_random_disconnects(server) -> None:  # type: ignore[no-untyped-def]
    import httpx

    rng = random.Random(5)
    leave_after = [rng.choice([None, 1, 3]) for _ in range(16)]
    texts: dict[int, str] = {}
    sched = server.scheduler

    def one(i: int) -> None:
        body = {"messages": MSG, "max_tokens": 24, "stream": True, "seed": i, "temperature": 0.7}
        with (
            httpx.Client(timeout=300) as c,
            c.stream("POST", server.url + "/chat/completions", json=body) as r,
        ):
            text, events = "", 0
            for line in r.iter_lines():
                if not line.startswith("data: {"):
                    continue
                events += 1
                text += json.loads(line[6:])["choices"][0]["delta"].get("content") or ""
                if leave_after[i] is not None and events > leave_after[i]:
                    return  # hang up mid-stream
            texts[i] = text

    before = sched.batches
    threads = [threading.Thread(target=one, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    deadline = time.time() + 60
    while sched.active and time.time() < deadline:
        time.sleep(0.05)
    assert sched.active == 0, "leaked work: requests still decoding after their clients left"
    assert len(texts) == sum(1 for x in leave_after if x is None) and all(texts.values())
    assert sched.batches > before and sched.peak_batch > 1


def test_late_joiner_and_leaver_keep_rows_exact(smollm2) -> None:  # type: ignore[no-untyped-def]
    """Rows that join a running batch and rows that leave it decode exactly as they would alone."""
    prompts = [smollm2.encode_chat(MSG), smollm2.encode("Bitcoin is"), smollm2.encode("The SEC said")]
    lengths = [20, 6, 12]
    solo = [
        smollm2.generate(p, SamplingParams(max_new_tokens=n, method="plain")).token_ids
        for p, n in zip(prompts, lengths, strict=True)
    ]
    sched = Scheduler(smollm2, max_batch=4)
    try:
        first = sched.submit(prompts[0], SamplingParams(max_new_tokens=lengths[0], method="plain"))
        it = first.chunks()
        got0 = next(it).token_ids + next(it).token_ids  # the first row is running alone
        others = [
            sched.submit(p, SamplingParams(max_new_tokens=n, method="plain"))
            for p, n in zip(prompts[1:], lengths[1:], strict=True)
        ]
        got0 += [t for c in it for t in c.token_ids]
        got = [got0] + [[t for c in j.chunks() for t in c.token_ids] for j in others]
        assert got == solo
        assert sched.peak_batch >= 2 and sched.active == 0
    finally:
        sched.stop()


def test_stream_batch_rows_match_single_greedy(smollm2) -> None:  # type: ignore[no-untyped-def]
    prompts = [smollm2.encode_chat(MSG), smollm2.encode("Bitcoin is")]
    params = [SamplingParams(max_new_tokens=10, method="plain") for _ in prompts]
    rows: dict[int, list[int]] = {0: [], 1: []}
    for r, chunk in stream_batch(smollm2, prompts, params):
        rows[r].extend(chunk.token_ids)
    for r, ids in enumerate(prompts):
        assert rows[r] == smollm2.generate(ids, params[r]).token_ids


def test_stop_string_cuts_text(smollm2) -> None:  # type: ignore[no-untyped-def]
    ids = smollm2.encode_chat(MSG)
    full = smollm2.generate(ids, SamplingParams(max_new_tokens=24, method="plain"))
    stop = full.text[5:8]
    cut = smollm2.generate(ids, SamplingParams(max_new_tokens=24, method="plain", stop=(stop,)))
    assert cut.finish_reason == "stop"
    assert cut.text == full.text[: full.text.find(stop)]


def test_cli_generate_goes_through_the_configured_backend(server, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from oneprice.cli.main import app
    from oneprice.config import get_settings

    monkeypatch.setenv("ONEPRICE_LLM_BACKEND", "openai")
    monkeypatch.setenv("ONEPRICE_LLM_BASE_URL", server.url)
    get_settings.cache_clear()
    before = server.requests
    try:
        (tmp_path / "s.json").write_text(json.dumps(SCHEMA))
        args = [
            "llm",
            "generate",
            "Name exchanges.",
            "--schema",
            str(tmp_path / "s.json"),
            "--max-tokens",
            "64",
        ]
        out = CliRunner().invoke(app, args)
    finally:
        get_settings.cache_clear()
    assert out.exit_code == 0, out.output
    last = out.output.strip().splitlines()[-1]
    assert last.endswith("}"), out.output
    reply = json.loads(last)  # constrained by the server via our client
    jsonschema.validate(reply, SCHEMA)
    assert server.requests == before + 1  # the reply came from the server, not an in-process engine

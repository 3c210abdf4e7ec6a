"""The OpenAI-compatible server on loopback, driven through our openai backend; batching; stop strings."""

from __future__ import annotations

import threading

import pytest

from oneprice.core.errors import PermanentError
from oneprice.models.llm.backends import LocalBackend, OpenAIBackend
from oneprice.models.llm.batch import stream_batch
from oneprice.models.llm.sampling import SamplingParams
from oneprice.models.llm.server import LLMServer

MSG = [{"role": "user", "content": "List three crypto exchanges, comma separated."}]


@pytest.fixture(scope="module")
def server(smollm2):  # type: ignore[no-untyped-def]
    srv = LLMServer(smollm2, "smollm2-135m", "127.0.0.1", 0)
    srv.start()
    yield srv
    srv.stop()


def test_models_and_chat_match_local_engine(server, smollm2) -> None:  # type: ignore[no-untyped-def]
    client = OpenAIBackend(server.url, "smollm2-135m")
    assert client.models() == ["smollm2-135m"]
    params = SamplingParams(max_new_tokens=16, method="plain")
    remote = client.chat(MSG, params)
    local = LocalBackend(smollm2).chat(MSG, params)
    assert remote.text == local.text and remote.text
    assert remote.completion_tokens == local.completion_tokens
    assert remote.prompt_tokens == len(smollm2.encode_chat(MSG))


def test_streaming_sse_equals_non_streaming(server) -> None:  # type: ignore[no-untyped-def]
    client = OpenAIBackend(server.url, "smollm2-135m")
    params = SamplingParams(max_new_tokens=16, method="plain")
    pieces = list(client.stream(MSG, params))
    assert len(pieces) > 1
    assert "".join(pieces) == client.chat(MSG, params).text


def test_bad_request_is_a_clear_error(server) -> None:  # type: ignore[no-untyped-def]
    client = OpenAIBackend(server.url, "smollm2-135m")
    r = client.client.post("/chat/completions", json={"messages": []})
    assert r.status_code == 400 and "messages" in r.json()["error"]["message"]
    with pytest.raises(PermanentError):
        client._check(r)


def test_concurrent_requests_are_batched(server) -> None:  # type: ignore[no-untyped-def]
    client = OpenAIBackend(server.url, "smollm2-135m")
    params = SamplingParams(max_new_tokens=8, method="plain")
    results: list[str] = []
    before = server.scheduler.batches
    threads = [
        threading.Thread(target=lambda: results.append(client.chat(MSG, params).text)) for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 3 and all(results)
    assert server.scheduler.batches > before


def test_batch_rows_match_single_greedy(smollm2) -> None:  # type: ignore[no-untyped-def]
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

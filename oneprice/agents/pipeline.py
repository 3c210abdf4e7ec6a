"""Windows in, decisions out: analysts (code), the Decision agent (LLM, cached), risk (code).

A reply that is not JSON, does not match ``DECISION_SCHEMA``, or a backend error gives the window
ABSTAIN with the reason; never a default direction. Every call is logged and cached by
(window hash, prompt version, model, sampling).
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass

from oneprice.agents import risk
from oneprice.agents.analysts import Analysis, analyse, rules_decision
from oneprice.agents.cache import CallCache, call_key
from oneprice.agents.callers import Caller
from oneprice.agents.prompts import DECISION_SCHEMA, PROMPT_VERSION, decision_messages
from oneprice.agents.window import Window
from oneprice.core.errors import ParseError
from oneprice.models.llm.backends import ChatResult
from oneprice.models.llm.jsonmode import extract_json, validate
from oneprice.models.llm.sampling import SamplingParams

log = logging.getLogger(__name__)
OUT_COLUMNS = ("window", "decision", "confidence", "stop", "target", "size", "justification")


@dataclass
class Decision:
    window: str
    decision: str  # LONG | SHORT | ABSTAIN
    confidence: float
    horizon_bars: int
    justification: str
    stop: float | None = None
    target: float | None = None
    size: float | None = None
    reason: str = ""  # why ABSTAIN (invalid_json, schema, backend_error...), or "" for a decision
    cached: bool = False
    quotes_evidence: bool = False  # the justification restates a number or a pattern of the reports

    def row(self) -> dict[str, object]:
        d = asdict(self)
        return {k: d[k] for k in OUT_COLUMNS}


def default_params(max_new_tokens: int = 96) -> SamplingParams:
    # The schema ends the object by construction (the grammar mask); no stop string is needed, and
    # a "}" stop would cut a justification that quotes one.
    return SamplingParams(max_new_tokens=max_new_tokens, temperature=0.0, json_schema=DECISION_SCHEMA)


def _quotes(justification: str, reports: str) -> bool:
    """Whether the justification restates evidence of these reports: a number of theirs, or a pattern."""
    nums = {n for n in re.findall(r"[+-]?\d+(?:\.\d+)?%?", reports) if len(n.lstrip("+-")) > 1}
    said = set(re.findall(r"[+-]?\d+(?:\.\d+)?%?", justification))
    names = {m.strip().lower() for m in re.findall(r"([A-Za-z][A-Za-z -]+) \((?:bull|bear|neutr)", reports)}
    return bool(nums & said) or any(n in justification.lower() for n in names)


def parse_reply(name: str, text: str, a: Analysis) -> Decision:
    """The Decision agent's reply to a Decision (ABSTAIN with the reason when it is unusable)."""
    try:
        value = extract_json(text)
        validate(value, DECISION_SCHEMA)
    except ParseError as exc:
        return abstain(name, exc.reason, str(exc))
    d = Decision(
        name,
        value["decision"],
        float(value["confidence"]),
        int(value["horizon_bars"]),
        value["justification"],
        quotes_evidence=_quotes(value["justification"], a.text()),
    )
    p = risk.plan(d.decision, a.close, a.atr)
    if p is not None:
        d.stop, d.target, d.size = p.stop, p.target, p.size
    elif d.decision == "ABSTAIN":
        d.reason = "model_abstained"
    return d


def abstain(name: str, reason: str, detail: str) -> Decision:
    return Decision(name, "ABSTAIN", 0.0, 0, f"{reason}: {detail}"[:400], reason=reason)


def rules_only(w: Window, a: Analysis | None = None) -> Decision:
    """The same tools with no LLM: the rules vote, with the same risk plan."""
    a = a or analyse(w)
    side, why = rules_decision(a)
    d = Decision(w.name, side, 1.0 if side != "ABSTAIN" else 0.0, 1, f"{why}; {a.text()}"[:400])
    p = risk.plan(side, a.close, a.atr)
    if p is not None:
        d.stop, d.target, d.size = p.stop, p.target, p.size
    return d


def decide(
    windows: list[Window],
    caller: Caller,
    model: str,
    cache: CallCache,
    params: SamplingParams | None = None,
    analyses: list[Analysis] | None = None,
) -> list[Decision]:
    """One Decision per window, in order; cached calls are not repeated."""
    params = params or default_params()
    sp = {"max_new_tokens": params.max_new_tokens, "temperature": params.temperature, "top_p": params.top_p}
    analyses = analyses or [analyse(w) for w in windows]
    keys = [call_key(w.digest(), PROMPT_VERSION, model, sp) for w in windows]
    texts: list[str | None] = [cache.get(k) for k in keys]
    todo = [i for i, t in enumerate(texts) if t is None]
    msgs = [
        decision_messages(analyses[i].text(), windows[i].symbol, windows[i].timeframe, len(windows[i]))
        for i in todo
    ]
    errors: dict[int, Exception] = {}
    if todo:
        results = caller.run(msgs, params)
        for i, r in zip(todo, results, strict=True):
            if isinstance(r, ChatResult):
                texts[i] = r.text
                cache.put(
                    keys[i],
                    windows[i].name,
                    PROMPT_VERSION,
                    model,
                    r.text,
                    (r.prompt_tokens, r.completion_tokens),
                    0.0,
                )
                log.info(
                    "agents call window=%s key=%s model=%s prompt_tokens=%d completion_tokens=%d",
                    windows[i].name,
                    keys[i][:12],
                    model,
                    r.prompt_tokens,
                    r.completion_tokens,
                )
            else:
                errors[i] = r
                log.warning("agents call window=%s failed: %s", windows[i].name, r)
    out = []
    for i, w in enumerate(windows):
        text = texts[i]
        if text is None:
            exc = errors.get(i)
            out.append(abstain(w.name, "backend_error", f"{type(exc).__name__}: {exc}"))
            continue
        d = parse_reply(w.name, text, analyses[i])
        d.cached = i not in todo
        out.append(d)
    return out

"""Model runtimes: ``llm`` (LLM engine with speculative decoding)."""

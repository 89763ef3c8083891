"""LangGraph adapter overhead: tokens/s through `stream_graph` vs the graph's raw `astream`.

    .venv/bin/python benchmarks/langgraph_adapter.py [--tokens 5000] [--reps 5]

Needs the ``[langgraph]`` extra. One graph (a single agent node whose scripted chat model
streams N one-token chunks, no network) is run two ways, interleaved, medians of ``--reps``:

- **raw**: ``graph.astream(stream_mode=["messages", "updates", "custom"], subgraphs=True)``
  consumed by an empty loop (what the adapter reads);
- **adapter**: ``stream_graph`` into ``create_run``, encoded to data-stream bytes by
  ``DataStreamEncoder.iter_bytes`` (what a response writes), text checked.

Prints tokens/s of each and the ratio adapter/raw (the issue asks for at least 0.8). Each
measurement starts after ``gc.collect()``, so collections triggered by earlier runs are not
charged to whichever side runs next.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langgraph.graph import END, START, MessagesState, StateGraph

from assistant_stream_ce import create_run
from assistant_stream_ce.modules.langgraph import stream_graph
from assistant_stream_ce.serialization.data_stream import DataStreamDecoder, DataStreamEncoder

MODES = ["messages", "updates", "custom"]


class TokenModel(BaseChatModel):
    """Streams ``tokens`` as one chunk each."""

    tokens: list[str]

    @property
    def _llm_type(self) -> str:
        return "bench-tokens"

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        message = AIMessage(content="".join(self.tokens), id="ai-bench")
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(self, *args: Any, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        raise NotImplementedError

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        last = len(self.tokens) - 1
        for index, token in enumerate(self.tokens):
            chunk = AIMessageChunk(
                content=token, id="ai-bench", chunk_position="last" if index == last else None
            )
            generation = ChatGenerationChunk(message=chunk)
            if run_manager:
                await run_manager.on_llm_new_token(token, chunk=generation)
            yield generation


def build_graph(tokens: list[str]) -> Any:
    model = TokenModel(tokens=tokens)

    async def agent(state: MessagesState) -> dict[str, Any]:
        return {"messages": [await model.ainvoke(state["messages"])]}

    graph = StateGraph(MessagesState)
    graph.add_node("agent", agent)
    graph.add_edge(START, "agent")
    graph.add_edge("agent", END)
    return graph.compile()


def graph_input() -> dict[str, Any]:
    return {"messages": [HumanMessage(content="go", id="h")]}


async def raw(graph: Any) -> float:
    started = time.perf_counter()
    async for _ in graph.astream(graph_input(), stream_mode=MODES, subgraphs=True):
        pass
    return time.perf_counter() - started


async def adapter(graph: Any, expected: str) -> float:
    async def run(controller: Any) -> None:
        await stream_graph(controller, graph, graph_input())

    started = time.perf_counter()
    body = b"".join([part async for part in DataStreamEncoder().iter_bytes(create_run(run))])
    elapsed = time.perf_counter() - started
    text = "".join(c.text_delta for c in DataStreamDecoder().decode(body) if c.type == "text-delta")
    if text != expected:
        raise SystemExit("! verification: the adapter's text differs from the model's")
    return elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, default=5000)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    tokens = [f" t{i % 97}" for i in range(args.tokens)]
    graph = build_graph(tokens)
    await raw(graph)  # warm up both paths
    await adapter(graph, "".join(tokens))
    raw_times, adapter_times = [], []
    for _ in range(args.reps):
        # Each measurement starts from a fresh collector: otherwise the full collection that
        # falls every ~2 runs lands on the same side of the alternation every time.
        gc.collect()
        raw_times.append(await raw(graph))
        gc.collect()
        adapter_times.append(await adapter(graph, "".join(tokens)))
    raw_rate = args.tokens / statistics.median(raw_times)
    adapter_rate = args.tokens / statistics.median(adapter_times)
    print(f"tokens per run: {args.tokens}, repetitions: {args.reps} (medians)")
    print(f"raw astream:          {raw_rate:10.0f} tokens/s")
    print(f"stream_graph + bytes: {adapter_rate:10.0f} tokens/s")
    print(f"ratio adapter/raw:    {adapter_rate / raw_rate:10.2f}  (target >= 0.80)")


if __name__ == "__main__":
    asyncio.run(main())

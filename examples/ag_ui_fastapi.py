"""AG-UI example: a FastAPI agent endpoint for ``@ag-ui/client``'s ``HttpAgent`` (or CopilotKit).

Run it (from the repository root):

    pip install "assistant-stream-ce[server]"      # add [openai] / [anthropic] for a real model
    uvicorn examples.ag_ui_fastapi:app --reload --port 8000

Then point the client at it:

    import { HttpAgent } from "@ag-ui/client";
    const agent = new HttpAgent({ url: "http://localhost:8000/agent", initialState: {} });
    await agent.runAgent();   // agent.messages and agent.state now hold what the run made

The model is the built-in offline one (no key); set ``PROVIDER=openai`` (and OPENAI_API_KEY) or
``PROVIDER=anthropic`` for a real one. The client's history (every role, tool calls and tool
results) becomes the provider's messages, its frontend tools are offered to the model, and the
client's state is the run's state: changes stream back as JSON Patch.
"""

import os

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from assistant_stream_ce import RunController, create_run
from assistant_stream_ce.providers import run_provider
from assistant_stream_ce.serialization.ag_ui import AGUIResponse
from assistant_stream_ce.serialization.ag_ui_input import RunAgentInput

PROVIDER = os.environ.get("PROVIDER", "offline")

app = FastAPI()
app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["*"], allow_headers=["*"])


@app.post("/agent")
async def agent(input: RunAgentInput) -> AGUIResponse:
    """Answer the client's history; a malformed body is a 422 naming the field."""
    messages = input.provider_messages()
    tools = input.provider_tools() or None  # calls to them are left to the client
    options = {"update_state": True} if PROVIDER == "offline" else {}

    async def run(controller: RunController) -> None:
        if isinstance(input.state, dict):
            controller.state["visits"] = input.state.get("visits", 0) + 1
        await run_provider(controller, messages, provider=PROVIDER, tools=tools, **options)

    return AGUIResponse(create_run(run, state=input.state), input=input)

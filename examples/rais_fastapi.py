"""RAIS example: the seed's FastAPI app, streaming an OpenAI answer to react-ai-stream's useAIChat.

Run it (from the repository root, with the openai extra installed):

    pip install "assistant-stream-ce[openai,server]"
    export OPENAI_API_KEY=sk-...            # or OPENAI_BASE_URL for an OpenAI-compatible server
    uvicorn examples.rais_fastapi:app --reload --port 8000

Then point the React (or Vue) hook at it:

    const chat = useAIChat({ endpoint: 'http://localhost:8000/api/chat' })

Use ``provider="anthropic"`` (and ANTHROPIC_API_KEY) for Claude, or ``provider="offline"`` to
try it without a key. Try it from a shell:

    curl -N http://localhost:8000/api/chat -H 'content-type: application/json' \\
        -d '{"messages": [{"role": "user", "content": "Hello"}]}'

Note: ``rais`` here is the package shipped with assistant-stream-ce; do not also install the
unrelated PyPI project named ``rais`` (same import name).
"""

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from rais import stream_response

app = FastAPI()
app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["*"], allow_headers=["*"])


class Message(BaseModel):
    role: str
    content: str


class ChatRequest(BaseModel):
    messages: list[Message]


@app.post("/api/chat")
async def chat(request: ChatRequest):  # type: ignore[no-untyped-def]
    return StreamingResponse(
        stream_response(
            [m.model_dump() for m in request.messages],
            provider="openai",  # or "anthropic"
        ),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "Connection": "keep-alive"},
    )

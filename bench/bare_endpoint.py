"""The baseline of bench/gateway_load.py: a FastAPI endpoint that reads the body and answers ok, nothing else,
served the same way as the gateway (uvicorn, one process). The gateway's cost is measured against it."""

from fastapi import FastAPI, Request

app = FastAPI()


@app.post("/push/{channel}")
@app.post("/push/{channel}/{kind}")
async def push(request: Request) -> dict:
    await request.body()
    return {"ok": True, "data": "ok", "message": "ok"}

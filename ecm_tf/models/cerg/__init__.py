"""CERG (Zhou & Ren 2020): a UniLM-style character transformer with BM25 reranking, and P&E2R."""

"""The engines behind the tools: CF model, Chroma store, embeddings, fusion, learned ranker."""

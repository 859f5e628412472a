"""The staff API (Litestar): auth, guards, rate limits and routes driving the workflows."""

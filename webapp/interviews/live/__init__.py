"""The live room: per-process rooms over WebSockets, and the relay between processes."""

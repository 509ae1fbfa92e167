"""The HJ 212 gateway: an asyncio TCP server that stores every frame (group commit) before it
acknowledges it, and dispatches reverse-control commands. See ``docs/gateway.md``."""

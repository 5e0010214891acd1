"""Node hardware behind small interfaces, each with a simulated backend for tests and
Terminal nodes. Nothing here imports a hardware package at module level: the real backends
import theirs when they are constructed, on the machine that has them (docs/hardware.md)."""

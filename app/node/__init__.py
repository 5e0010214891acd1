"""This node as the node page and ``GET /api/v1/node`` show it: feature health checks
(``health``) and the machine's state (``status``: interfaces, uptime, disk, Redis, workers,
version and upgrade channel)."""

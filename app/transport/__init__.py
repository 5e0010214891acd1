"""Transport: the OCPP websocket endpoint and the drivers that run sessions over real sockets."""

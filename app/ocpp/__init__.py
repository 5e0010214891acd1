"""The OCPP-J protocol layer: framing, schema validation and the session state machine.

Nothing in this package does I/O or reads a clock: frames and the time go in, frames to send and
events come out (the style of h11 and websockets' protocol core). ``app.transport`` drives it over
real sockets; tests can drive it directly.
"""

"""Domain services: what the CSMS does, independent of OCPP version and of who asks.

The OCPP handlers, the REST API, the console and background jobs all call these. Functions that
take a ``conn`` run inside the group-commit writer (SQLAlchemy Core, one transaction per batch);
the others use the ORM session of the request or job.
"""

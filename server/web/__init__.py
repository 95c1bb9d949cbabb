"""The HTTP edge: the Falcon app, responders, validation, bodies, errors on the wire, the admin API, docs."""

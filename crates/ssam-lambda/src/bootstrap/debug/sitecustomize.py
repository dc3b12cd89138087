# ssam --debug-port in a container: Python imports this module at start-up (it is first on
# PYTHONPATH), so debugpy listens, and waits for its client, before the image's runtime
# client imports the handler. The variable is removed, so processes the function starts
# do not try to listen on the same port.
import os

_listen = os.environ.pop("_SSAM_DEBUGPY_LISTEN", None)
if _listen:
    import debugpy

    _host, _, _port = _listen.rpartition(":")
    debugpy.listen((_host, int(_port)))
    debugpy.wait_for_client()

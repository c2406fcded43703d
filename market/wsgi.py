"""The WSGI entry point for production servers: ``gunicorn market.wsgi:app``."""

import gc

from market import create_app

app = create_app()
# Everything built so far lives as long as the process: keep it out of the garbage
# collector's full passes, which otherwise pause one request in ten for tens of milliseconds.
gc.freeze()
